"""Unit tests of extensions/derive.py: the derived profile for every combination of answers.

Every combination (3 domains x 3 scales x 4 infrastructures x 3 budgets x 32 subsets of the
5 frameworks = 3,456, and for multi-cloud each choice of two or three clouds with each of
them as primary: 9 x 864 more) either is refused, with the very message `refusal()` gives,
or yields a complete and consistent profile. The budget rule is stated here on its own:
refused exactly when the itemised estimate exceeds the budget's ceiling, and every
alternative the refusal offers is accepted and fits. Cross-combination properties (larger
scales never get less, larger budgets never buy less) are checked on the same profiles.
"""

from __future__ import annotations

import importlib
import math
import re
import sys
from itertools import combinations, pairwise, product
from typing import Any

import jinja2
import pytest
from conftest import REPO, SCENARIO_NAMES, load_scenario

sys.path.insert(0, str(REPO / "extensions"))
derive = importlib.import_module("derive")

DOMAINS = ("ecommerce", "saas", "devops")
SCALES = ("small", "medium", "large")
INFRASTRUCTURES = ("aws", "gcp", "azure", "multi-cloud")
CLOUDS = ("aws", "gcp", "azure")
# (clouds, primary) of a multi-cloud answer: two or three clouds, any of them primary.
CLOUD_CHOICES = [
    (list(chosen), primary)
    for r in (2, 3)
    for chosen in combinations(CLOUDS, r)
    for primary in chosen
]
BUDGETS = ("startup", "growth", "enterprise")
FRAMEWORKS = ("PCI-DSS", "GDPR", "SOC2", "ISO27001", "HIPAA")
SUBSETS = [list(c) for r in range(len(FRAMEWORKS) + 1) for c in combinations(FRAMEWORKS, r)]

TOP_LEVEL_KEYS = {
    "domain",
    "scale",
    "clouds",
    "primary_cloud",
    "sizing",
    "sla",
    "budget",
    "compliance",
    "infra",
    "cost",
}
RATE = re.compile(r"^\d+/(second|minute|hour|day)$")

CONTROLS = derive.table("controls")
CEILINGS = {b: derive.table("budget")[b]["monthly_ceiling_usd"] for b in BUDGETS}


def answers_of(
    domain: str,
    scale: str,
    infra: str,
    budget: str,
    frameworks: list[str],
    clouds: tuple[list[str], str] | None = None,
) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "business_domain": domain,
        "user_scale": scale,
        "infrastructure": infra,
        "budget_constraints": budget,
        "compliance_requirements": list(frameworks),
    }
    if clouds is not None:
        answers["clouds"], answers["primary_cloud"] = list(clouds[0]), clouds[1]
    return answers


def contradictory(answers: dict[str, Any]) -> bool:
    """The contradictions the template documents, stated independently of derive.py."""
    frameworks = answers["compliance_requirements"]
    return (
        (answers["user_scale"] == "large" and answers["budget_constraints"] == "startup")
        or ("PCI-DSS" in frameworks and answers["business_domain"] != "ecommerce")
        or ("HIPAA" in frameworks and answers["budget_constraints"] == "startup")
    )


def over_budget(answers: dict[str, Any]) -> bool:
    """The budget rule: the itemised estimate's total, added up here, exceeds the ceiling."""
    cost = derive.estimate(answers)
    lines = [x for c in cost["clouds"].values() for x in c["lines"]] + cost["shared"]["lines"]
    assert cost["total_usd"] == pytest.approx(sum(x["monthly_usd"] for x in lines), abs=0.011)
    assert cost["ceiling_usd"] == CEILINGS[answers["budget_constraints"]]
    return bool(cost["total_usd"] > CEILINGS[answers["budget_constraints"]])


def expected_refused(answers: dict[str, Any]) -> bool:
    return contradictory(answers) or over_budget(answers)


def profile_or_refusal(answers: dict[str, Any]) -> dict[str, Any] | None:
    """The profile, or None after checking the refusal is the one `refusal()` gives."""
    message = derive.refusal(answers)
    assert bool(message) == expected_refused(answers), (answers, message)
    if message:
        with pytest.raises(ValueError) as raised:
            derive.build_profile(answers)
        assert str(raised.value) == message, answers
        if not contradictory(answers):
            check_alternatives(answers, message)
        return None
    return derive.build_profile(answers)


def check_alternatives(answers: dict[str, Any], message: str) -> None:
    """An over-budget refusal gives its figures, and every answer it offers really fits."""
    cost = derive.estimate(answers)
    over = cost["total_usd"] - cost["ceiling_usd"]
    assert f"{cost['ceiling_usd']:,}" in message and "over" in message, message
    assert (f"${over:,.0f}" if over >= 100 else f"${over:,.2f}") in message, message
    offered = derive.fitting_alternatives(answers)
    assert offered, f"no alternative offered for {answers}"
    for alt in offered:
        assert alt["change"] in message, (alt["change"], message)
        changed = {k for k in alt["answers"] if alt["answers"][k] != answers.get(k)}
        assert changed, alt
        assert changed <= {"user_scale", "budget_constraints", "clouds", "infrastructure"}
        profile = derive.build_profile(alt["answers"])  # accepted: raises if refused
        assert profile["cost"]["total_usd"] <= profile["budget"]["monthly_ceiling_usd"]
        assert profile["cost"]["total_usd"] == alt["total_usd"]


def walk_values(value: Any, path: str = "profile") -> list[str]:
    """Paths of None, NaN or empty-string leaves (an incomplete profile)."""
    bad = []
    if isinstance(value, dict):
        for k, v in value.items():
            bad += walk_values(v, f"{path}.{k}")
    elif isinstance(value, list):
        for i, v in enumerate(value):
            bad += walk_values(v, f"{path}[{i}]")
    elif value is None or value == "" or (isinstance(value, float) and math.isnan(value)):
        bad.append(path)
    return bad


def check_profile(p: dict[str, Any], answers: dict[str, Any]) -> None:
    """One profile is complete and internally consistent."""
    where = repr(answers)
    assert set(p) == TOP_LEVEL_KEYS, where
    assert not walk_values(p), (where, walk_values(p))

    # domain and scale
    domain = derive.table("domains")[answers["business_domain"]]
    assert p["domain"]["key"] == answers["business_domain"]
    assert p["domain"]["package"] == domain["package"] and p["domain"]["package"].isidentifier()
    assert p["scale"]["key"] == answers["user_scale"]
    assert p["scale"]["concurrent_users"] > 0

    # clouds
    infra = answers["infrastructure"]
    if infra == "multi-cloud":
        chosen = answers.get("clouds") or CLOUDS
        assert p["clouds"] == [c for c in CLOUDS if c in chosen], where
        assert p["primary_cloud"] == (answers.get("primary_cloud") or p["clouds"][0]), where
    else:
        assert p["clouds"] == [infra], where
    assert p["primary_cloud"] in p["clouds"], where
    assert list(p["infra"]) == p["clouds"], where

    # cost: one itemised estimate per chosen cloud, within the ceiling
    cost = p["cost"]
    assert list(cost["clouds"]) == p["clouds"], where
    for cloud, c in cost["clouds"].items():
        assert c["region"] == p["infra"][cloud]["region"], where
        assert c["lines"] and all(x["monthly_usd"] >= 0 for x in c["lines"]), where
        assert c["subtotal_usd"] == pytest.approx(sum(x["monthly_usd"] for x in c["lines"]))
        if len(p["clouds"]) == 1:
            assert c["role"] == "single"
        else:
            assert c["role"] == ("primary" if cloud == p["primary_cloud"] else "standby")
        if c["role"] == "standby":
            assert c["replicas"] == {"web": 1, "worker": 1}, where
        else:
            assert c["replicas"] == {
                "web": p["sizing"]["web"]["max_replicas"],
                "worker": p["sizing"]["worker"]["max_replicas"],
            }, where
    assert bool(cost["shared"]["lines"]) == (infra == "multi-cloud"), where
    assert cost["ceiling_usd"] == p["budget"]["monthly_ceiling_usd"]
    assert cost["total_usd"] <= cost["ceiling_usd"], where
    assert cost["headroom_usd"] == pytest.approx(cost["ceiling_usd"] - cost["total_usd"])
    for r in cost["reductions"]:
        assert 0 < r["total_usd"] < cost["total_usd"] and r["saving_usd"] > 0, (where, r)

    # sizing
    sizing = p["sizing"]
    for tier in ("web", "worker"):
        s = sizing[tier]
        assert 1 <= s["min_replicas"] <= s["max_replicas"], (where, tier, s)
        assert s["cpu"] > 0 and s["memory"] > 0, (where, tier)
    assert sizing["web"]["processes"] >= 1 and sizing["worker"]["concurrency"] >= 1
    assert 0 < sizing["autoscale_cpu_target"] < 100
    db = sizing["db"]
    web, worker = sizing["web"], sizing["worker"]
    assert db["pool_size"] > 0 and db["max_overflow"] >= 0 and db["storage_gb"] > 0
    assert db["peak_connections"] == (
        web["max_replicas"] * web["processes"] * (db["pool_size"] + db["max_overflow"])
        + worker["max_replicas"] * worker["concurrency"]
    ), where
    assert isinstance(db["multi_az"], bool) and isinstance(db["deletion_protection"], bool)
    assert db["read_replicas"] >= 0 and db["backup_retention_days"] >= 1
    assert isinstance(db["tier"], str)
    cache = sizing["cache"]
    assert cache["memory_gb"] > 0 and cache["ha"] == (cache["tier"] == "standard")
    assert set(sizing["rate_limits"]) >= {"anonymous", "authenticated", "login"}
    assert all(RATE.match(v) for v in sizing["rate_limits"].values()), sizing["rate_limits"]

    # SLA and budget
    sla = p["sla"]
    assert sla["p95_latency_ms"] == domain["sla"]["p95_latency_ms"] > 0
    assert sla["throughput_rps"] > 0
    assert 90 < float(sla["availability"]) < 100
    assert p["budget"]["key"] == answers["budget_constraints"]
    assert p["budget"]["monthly_ceiling_usd"] > 0 and isinstance(p["budget"]["waf"], bool)

    # What the refusals promise: large scale and HIPAA always get what they need.
    if answers["user_scale"] == "large":
        assert web["min_replicas"] >= 6 and db["multi_az"], where
    if "HIPAA" in answers["compliance_requirements"]:
        assert db["multi_az"] and p["budget"]["waf"], where
        assert p["compliance"]["features"]["retention_days"] >= 6 * 365, where

    # compliance
    chosen = answers["compliance_requirements"]
    comp = p["compliance"]
    assert comp["frameworks"] == [f for f in FRAMEWORKS if f in chosen], where
    assert set(comp["titles"]) == set(chosen)
    ids = [c["id"] for c in comp["controls"]]
    assert len(ids) == len(set(ids)), where
    for control in comp["controls"]:
        refs = control["frameworks"]
        assert refs, (where, control["id"])  # at least one framework reference
        assert set(refs) <= set(chosen), (where, control["id"], refs)
        assert all(isinstance(r, str) and r.strip() for r in refs.values())
        assert control["implemented"].strip() and control["operator"].strip()
    # Complete: every control that any chosen framework calls for is rendered...
    wanted = [c["id"] for c in CONTROLS["controls"] if set(c["frameworks"]) & set(chosen)]
    assert ids == wanted, where
    # ...and every chosen framework is covered by at least one control.
    for fw in chosen:
        assert any(fw in c["frameworks"] for c in comp["controls"]), (where, fw)
    # Features follow the rendered controls, nothing else.
    features = comp["features"]
    for name in {c["feature"] for c in CONTROLS["controls"] if "feature" in c}:
        assert features[name] == any(c.get("feature") == name for c in comp["controls"]), (
            where,
            name,
        )
    periods = [CONTROLS["frameworks"][fw]["data_retention_days"] for fw in chosen]
    assert features["retention_days"] == (max(periods) if periods else 90), where


def _num(value: Any) -> float:
    return float(value)


SCALE_MONOTONIC = {
    "web max replicas": lambda p: p["sizing"]["web"]["max_replicas"],
    "web min replicas": lambda p: p["sizing"]["web"]["min_replicas"],
    "web cpu": lambda p: p["sizing"]["web"]["cpu"],
    "web memory": lambda p: p["sizing"]["web"]["memory"],
    "worker max replicas": lambda p: p["sizing"]["worker"]["max_replicas"],
    "worker cpu": lambda p: p["sizing"]["worker"]["cpu"],
    "worker memory": lambda p: p["sizing"]["worker"]["memory"],
    "throughput": lambda p: p["sla"]["throughput_rps"],
    "concurrent users": lambda p: p["scale"]["concurrent_users"],
    "db storage": lambda p: p["sizing"]["db"]["storage_gb"],
    "peak connections": lambda p: p["sizing"]["db"]["peak_connections"],
    "cache memory": lambda p: p["sizing"]["cache"]["memory_gb"],
    "cost total": lambda p: p["cost"]["total_usd"],
}
BUDGET_MONOTONIC = {
    "availability": lambda p: _num(p["sla"]["availability"]),
    "backup retention": lambda p: p["sizing"]["db"]["backup_retention_days"],
    "monthly ceiling": lambda p: p["budget"]["monthly_ceiling_usd"],
    "read replicas": lambda p: p["sizing"]["db"]["read_replicas"],
    "multi-AZ": lambda p: int(p["sizing"]["db"]["multi_az"]),
    "WAF": lambda p: int(p["budget"]["waf"]),
    "cost total": lambda p: p["cost"]["total_usd"],
}


@pytest.mark.parametrize("infra", INFRASTRUCTURES)
@pytest.mark.parametrize("domain", DOMAINS)
def test_every_combination(domain: str, infra: str) -> None:
    """All scales x budgets x framework subsets for one domain and infrastructure."""
    cloud_choices: list[int | None] = (
        list(range(len(CLOUD_CHOICES))) if infra == "multi-cloud" else [None]
    )
    profiles: dict[tuple[str, str, tuple[str, ...], int | None], dict[str, Any]] = {}
    refused = 0
    for scale, budget, frameworks, ci in product(SCALES, BUDGETS, SUBSETS, cloud_choices):
        clouds = CLOUD_CHOICES[ci] if ci is not None else None
        answers = answers_of(domain, scale, infra, budget, frameworks, clouds)
        profile = profile_or_refusal(answers)
        if profile is None:
            refused += 1
            continue
        check_profile(profile, answers)
        profiles[scale, budget, tuple(frameworks), ci] = profile
    assert profiles and refused, "expected both accepted and refused combinations"

    for budget, frameworks, ci in product(BUDGETS, SUBSETS, cloud_choices):
        chain = [profiles.get((s, budget, tuple(frameworks), ci)) for s in SCALES]
        present = [(s, p) for s, p in zip(SCALES, chain, strict=True) if p is not None]
        for (s1, p1), (s2, p2) in pairwise(present):
            for label, get in SCALE_MONOTONIC.items():
                assert get(p1) <= get(p2), f"{label}: {s1} > {s2} ({domain}, {infra}, {budget})"
    for scale, frameworks, ci in product(SCALES, SUBSETS, cloud_choices):
        chain = [profiles.get((scale, b, tuple(frameworks), ci)) for b in BUDGETS]
        present = [(b, p) for b, p in zip(BUDGETS, chain, strict=True) if p is not None]
        for (b1, p1), (b2, p2) in pairwise(present):
            for label, get in BUDGET_MONOTONIC.items():
                assert get(p1) <= get(p2), f"{label}: {b1} > {b2} ({domain}, {scale}, {infra})"
            assert p1["budget"]["monthly_ceiling_usd"] < p2["budget"]["monthly_ceiling_usd"]


def test_frameworks_order_does_not_matter() -> None:
    a = derive.build_profile(
        answers_of("ecommerce", "medium", "aws", "growth", ["HIPAA", "GDPR", "PCI-DSS"])
    )
    b = derive.build_profile(
        answers_of("ecommerce", "medium", "aws", "growth", ["PCI-DSS", "GDPR", "HIPAA"])
    )
    assert a == b
    assert a["compliance"]["frameworks"] == ["PCI-DSS", "GDPR", "HIPAA"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("business_domain", "retail"),
        ("user_scale", "huge"),
        ("infrastructure", "oracle"),
        ("budget_constraints", "free"),
    ],
)
def test_unknown_choice_is_refused(field: str, value: str) -> None:
    answers = answers_of("ecommerce", "small", "aws", "startup", [])
    answers[field] = value
    with pytest.raises(ValueError, match=re.escape(field)) as raised:
        derive.build_profile(answers)
    assert repr(value) in str(raised.value)


def test_unknown_framework_is_refused() -> None:
    answers = answers_of("ecommerce", "small", "aws", "growth", ["FedRAMP"])
    message = derive.refusal(answers)
    assert "FedRAMP" in message and all(fw in message for fw in FRAMEWORKS)
    with pytest.raises(ValueError) as raised:
        derive.build_profile(answers)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("answers", "words"),
    [
        (answers_of("saas", "large", "gcp", "startup", []), ["large", "startup", "$1,000"]),
        (answers_of("devops", "small", "aws", "growth", ["PCI-DSS"]), ["PCI-DSS", "ecommerce"]),
        (answers_of("ecommerce", "small", "aws", "startup", ["HIPAA"]), ["HIPAA", "startup"]),
        (
            answers_of("ecommerce", "large", "aws", "growth", []),
            ["$5,000", "over", "user_scale medium", "budget_constraints enterprise"],
        ),
        (
            answers_of("saas", "medium", "multi-cloud", "startup", [], (list(CLOUDS), "aws")),
            ["$1,000", "over", "user_scale small", "budget_constraints growth", "clouds aws, gcp"],
        ),
        (
            answers_of("devops", "small", "multi-cloud", "growth", [], (["aws"], "aws")),
            ["at least two", "aws"],
        ),
        (
            answers_of("devops", "small", "multi-cloud", "growth", [], (["aws", "gcp"], "azure")),
            ["'azure'", "not among", "aws, gcp"],
        ),
    ],
)
def test_refusal_messages_say_what_to_change(answers: dict[str, Any], words: list[str]) -> None:
    message = derive.refusal(answers)
    for word in words:
        assert word in message, (word, message)
    assert "choose" in message or "remove" in message or "Answers that fit" in message


def test_refusal_without_frameworks_key() -> None:
    """The budget validator calls refusal() before compliance_requirements is answered."""
    assert (
        derive.refusal(
            {"user_scale": "small", "budget_constraints": "startup", "business_domain": "saas"}
        )
        == ""
    )
    assert derive.refusal(
        {"user_scale": "large", "budget_constraints": "startup", "business_domain": "saas"}
    )


# ---------------------------------------------------------------------------------------
# The three reference scenarios
# ---------------------------------------------------------------------------------------


def scenario_profile(name: str) -> dict[str, Any]:
    data = load_scenario(name)
    return derive.build_profile(
        {
            k: data[k]
            for k in (
                "business_domain",
                "user_scale",
                "infrastructure",
                "budget_constraints",
                "compliance_requirements",
            )
        }
    )


def control_ids(p: dict[str, Any], framework: str) -> set[str]:
    return {c["id"] for c in p["compliance"]["controls"] if framework in c["frameworks"]}


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenario_profiles_are_consistent(name: str) -> None:
    data = load_scenario(name)
    answers = {
        k: data[k]
        for k in (
            "business_domain",
            "user_scale",
            "infrastructure",
            "budget_constraints",
            "compliance_requirements",
        )
    }
    assert derive.refusal(answers) == ""
    check_profile(derive.build_profile(answers), answers)


def test_ecommerce_scenario_figures() -> None:
    p = scenario_profile("ecommerce")
    assert p["domain"]["package"] == "commerce"
    assert p["scale"]["concurrent_users"] == 100_000
    assert p["sla"]["p95_latency_ms"] == 200  # seed: p95 < 200 ms
    assert p["sla"]["throughput_rps"] == 10_000  # seed: 10k req/s
    assert p["sla"]["availability"] == "99.95"
    assert p["clouds"] == ["aws"] and p["primary_cloud"] == "aws"
    assert p["compliance"]["frameworks"] == ["PCI-DSS", "GDPR"]
    pci = control_ids(p, "PCI-DSS")
    assert {"AUTH-01", "AUDIT-01", "LOG-01", "CRYPT-01", "NET-01", "SEC-01", "CHG-01"} <= pci
    assert "DATA-01" in control_ids(p, "GDPR")
    features = p["compliance"]["features"]
    assert features["audit_log"] and features["data_subject_rights"] and features["retention"]
    assert features["retention_days"] == 730
    web, db = p["sizing"]["web"], p["sizing"]["db"]
    assert (web["min_replicas"], web["max_replicas"]) == (6, 40)
    assert db["multi_az"] and db["read_replicas"] == 1 and db["backup_retention_days"] == 35
    assert db["peak_connections"] == 40 * 2 * (15 + 10) + 12 * 20
    assert p["budget"] == {"key": "enterprise", "monthly_ceiling_usd": 25_000, "waf": True}
    # 40 web replicas x 2 processes must be able to carry the throughput target.
    assert web["max_replicas"] * web["processes"] * 250 >= p["sla"]["throughput_rps"]


def test_saas_scenario_figures() -> None:
    p = scenario_profile("saas")
    assert p["domain"]["package"] == "collaboration"
    assert p["scale"]["concurrent_users"] == 1_000  # seed: 1,000 connections
    assert p["sla"]["p95_latency_ms"] == 50  # seed: message latency < 50 ms
    assert p["sla"]["throughput_rps"] == 5_000  # seed: 5k msg/s
    assert p["sla"]["availability"] == "99.9"
    assert p["clouds"] == ["gcp"] and p["primary_cloud"] == "gcp"
    assert p["compliance"]["frameworks"] == ["GDPR", "SOC2"]
    assert not control_ids(p, "PCI-DSS") and not control_ids(p, "HIPAA")
    assert "DATA-01" in control_ids(p, "GDPR") and "AUDIT-01" in control_ids(p, "SOC2")
    features = p["compliance"]["features"]
    assert features["audit_log"] and features["data_subject_rights"] and features["retention"]
    assert features["retention_days"] == 730
    db = p["sizing"]["db"]
    assert db["multi_az"] and db["read_replicas"] == 0 and db["backup_retention_days"] == 14
    assert p["sizing"]["cache"]["ha"]
    assert p["budget"] == {"key": "growth", "monthly_ceiling_usd": 5_000, "waf": True}


def test_devops_scenario_figures() -> None:
    p = scenario_profile("devops")
    assert p["domain"]["package"] == "operations"
    assert p["scale"]["concurrent_users"] == 50
    assert p["sla"]["p95_latency_ms"] == 2_000  # seed: dashboard load < 2 s
    assert p["sla"]["throughput_rps"] == 1_000  # seed: 1k metrics/s
    assert p["sla"]["availability"] == "99.5"
    assert sorted(p["clouds"]) == ["aws", "azure", "gcp"] and p["primary_cloud"] == "aws"
    assert p["compliance"]["frameworks"] == ["SOC2", "ISO27001"]
    features = p["compliance"]["features"]
    assert features["audit_log"] and not features["data_subject_rights"]
    assert not features["retention"] and features["retention_days"] == 365
    assert "DATA-01" not in {c["id"] for c in p["compliance"]["controls"]}
    db = p["sizing"]["db"]
    assert not db["multi_az"] and db["backup_retention_days"] == 7
    assert (p["sizing"]["web"]["min_replicas"], p["sizing"]["web"]["max_replicas"]) == (1, 2)
    assert p["budget"] == {"key": "startup", "monthly_ceiling_usd": 1_000, "waf": False}


# ---------------------------------------------------------------------------------------
# The Jinja side: what templates and copier.yml see
# ---------------------------------------------------------------------------------------


def jinja_env() -> jinja2.Environment:
    return jinja2.Environment(extensions=[derive.ProfileHook, derive.Helpers])


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_templates_see_the_same_profile(name: str) -> None:
    data = load_scenario(name)
    context = {**data, "_copier_conf": {}}
    out = (
        jinja_env()
        .from_string(
            "{{ profile.sla.p95_latency_ms }}|{{ profile.sizing.db.peak_connections }}|"
            "{{ profile.compliance.frameworks | join(',') }}"
        )
        .render(context)
    )
    p = scenario_profile(name)
    assert out == (
        f"{p['sla']['p95_latency_ms']}|{p['sizing']['db']['peak_connections']}|"
        f"{','.join(p['compliance']['frameworks'])}"
    )


def test_hook_waits_for_all_answers() -> None:
    out = (
        jinja_env()
        .from_string("{{ profile is defined }}")
        .render({"_copier_conf": {}, "business_domain": "saas", "user_scale": "small"})
    )
    assert out == "False"


def test_helpers() -> None:
    env = jinja_env()
    refusal = env.from_string(
        "{{ prodkit_refusal({'user_scale': 'large', 'budget_constraints': 'startup'}) }}"
    ).render()
    assert refusal == derive.refusal({"user_scale": "large", "budget_constraints": "startup"})
    secrets = {env.from_string("{{ new_secret() }}").render() for _ in range(5)}
    assert len(secrets) == 5 and all(len(s) >= 40 for s in secrets)
    check = env.from_string("{{ value is python_identifier }}")
    for good in ("acme_shop", "a1", "team_hub"):
        assert check.render(value=good) == "True"
    for bad in ("1abc", "class", "acme shop", "acme-shop", "", "café"):
        assert check.render(value=bad) == "False", bad
