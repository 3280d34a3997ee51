"""The monthly cost estimate held against the budget (profile.cost, docs/COSTS.md).

The estimate is computed once, in extensions/derive.py, from extensions/data/pricing.yaml.
These tests recompute the lines that are easy to get wrong (HA doubling, NAT, public IPv4,
logs, cross-zone) straight from the price table, check that every price says where it comes
from, that the reference scenarios fit their budgets, that docs/COSTS.md shows the profile's
figures, and that copier refuses an over-budget answer set before writing anything.
"""

from __future__ import annotations

import importlib
import re
import sys
from datetime import date
from itertools import product
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, SCENARIO_NAMES, load_scenario, render

sys.path.insert(0, str(REPO / "extensions"))
derive = importlib.import_module("derive")

PRICING = derive.table("pricing")
CLOUDS_TABLE = derive.table("clouds")
HOURS = PRICING["hours_per_month"]
SCALES = ("small", "medium", "large")
BUDGETS = ("startup", "growth", "enterprise")
INFRASTRUCTURES = ("aws", "gcp", "azure", "multi-cloud")
ANSWER_KEYS = (
    "business_domain",
    "user_scale",
    "infrastructure",
    "budget_constraints",
    "compliance_requirements",
)


def answers_of(scale: str, infra: str, budget: str, frameworks: list[str]) -> dict[str, Any]:
    return {
        "business_domain": "ecommerce",
        "user_scale": scale,
        "infrastructure": infra,
        "budget_constraints": budget,
        "compliance_requirements": frameworks,
    }


def scenario_answers(name: str) -> dict[str, Any]:
    data = load_scenario(name)
    return {k: data[k] for k in ANSWER_KEYS}


def lines_of(cost: dict[str, Any], cloud: str) -> dict[str, dict[str, Any]]:
    return {x["item"]: x for x in cost["clouds"][cloud]["lines"]}


def price(cloud: str, key: str, region: str, cls: str | None = None) -> float:
    value = PRICING["prices"][cloud][key]["usd"][region]
    return float(value[cls] if cls else value)


# ---------------------------------------------------------------------------------------
# The price table
# ---------------------------------------------------------------------------------------


def test_every_price_has_a_source_and_a_date() -> None:
    entries = [(c, k, e) for c, items in PRICING["prices"].items() for k, e in items.items()]
    assert len(entries) > 50
    for cloud, key, entry in entries:
        where = f"{cloud}.{key}"
        assert re.match(r"^https://[\w.-]+\.\w+/", entry["source"]), where
        assert date.fromisoformat(entry["read"]) <= date.today(), where
        assert entry["basis"].startswith(("searched", "best-known")), where
        assert entry["unit"].strip(), where
        if "seen_at" in entry:
            assert entry["seen_at"].startswith("https://"), where


@pytest.mark.parametrize("cloud", ["aws", "gcp", "azure"])
def test_every_region_and_class_of_clouds_yaml_is_priced(cloud: str) -> None:
    """A price per region of clouds.yaml (US and EU), and per instance class and SKU."""
    regions = {CLOUDS_TABLE["regions"][r][cloud] for r in ("default", "eu")}
    for key, entry in PRICING["prices"][cloud].items():
        assert set(entry["usd"]) == regions, f"{cloud}.{key}: {sorted(entry['usd'])}"
    classes = {
        "aws": [
            ("rds_instance_hour", CLOUDS_TABLE["aws"]["db_instance_class"].values()),
            ("cache_node_hour", CLOUDS_TABLE["aws"]["cache_node_type"].values()),
        ],
        "gcp": [
            (
                "sql_shared_core_hour",
                [t for t in CLOUDS_TABLE["gcp"]["db_tier"].values() if "custom" not in t],
            ),
        ],
        "azure": [
            ("postgres_hour", CLOUDS_TABLE["azure"]["postgres_sku"].values()),
            ("redis_hour", CLOUDS_TABLE["azure"]["redis_sku"].values()),
        ],
    }[cloud]
    for key, names in classes:
        for region in regions:
            priced = PRICING["prices"][cloud][key]["usd"][region]
            assert set(names) <= set(priced), (cloud, key, region, set(names) - set(priced))


def test_assumptions_cover_every_scale() -> None:
    for a in PRICING["assumptions"]:
        assert a["label"].strip() and a["why"].strip()
        assert "all" in a or all(a[s] >= 0 for s in SCALES), a["key"]
        if "all" not in a:
            assert a["small"] <= a["medium"] <= a["large"], a["key"]


# ---------------------------------------------------------------------------------------
# The reference scenarios
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCENARIO_NAMES)
def test_scenario_totals_are_within_their_budgets(name: str) -> None:
    answers = scenario_answers(name)
    assert derive.refusal(answers) == ""
    profile = derive.build_profile(answers)
    cost = profile["cost"]
    ceiling = derive.table("budget")[answers["budget_constraints"]]["monthly_ceiling_usd"]
    assert cost["ceiling_usd"] == ceiling
    assert 0 < cost["total_usd"] <= ceiling
    assert cost["within_budget"] and cost["headroom_usd"] >= 0
    assert list(cost["clouds"]) == profile["clouds"]


def test_scenario_shapes() -> None:
    """ecommerce: one AWS estimate in eu-west-1 (GDPR); devops: three clouds, one primary."""
    shop = derive.build_profile(scenario_answers("ecommerce"))["cost"]
    assert list(shop["clouds"]) == ["aws"] and shop["clouds"]["aws"]["region"] == "eu-west-1"
    assert shop["clouds"]["aws"]["replicas"] == {"web": 40, "worker": 12}
    hub = derive.build_profile(scenario_answers("saas"))["cost"]
    assert hub["clouds"]["gcp"]["region"] == "europe-west1"
    ops = derive.build_profile(scenario_answers("devops"))["cost"]
    roles = {c: v["role"] for c, v in ops["clouds"].items()}
    assert roles == {"aws": "primary", "gcp": "standby", "azure": "standby"}
    assert {x["item"] for x in ops["shared"]["lines"]} == {
        "Route 53 hosted zone",
        "Route 53 health checks",
    }
    assert "Replication to the standby clouds" in lines_of(ops, "aws")


# ---------------------------------------------------------------------------------------
# The lines estimates often forget
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scale", "budget"), [("small", "startup"), ("large", "enterprise")])
def test_aws_forgotten_lines(scale: str, budget: str) -> None:
    answers = answers_of(scale, "aws", budget, ["GDPR"])
    profile = derive.build_profile(answers)
    infra, cost = profile["infra"]["aws"], profile["cost"]
    region = infra["region"]
    lines = lines_of(cost, "aws")
    usage = {a["key"]: a.get(scale, a.get("all")) for a in PRICING["assumptions"]}
    nat = infra["nat_gateways"]
    assert lines["NAT gateways"]["monthly_usd"] == pytest.approx(
        nat * price("aws", "nat_gateway_hour", region) * HOURS, abs=0.01
    )
    assert lines["NAT data processing"]["monthly_usd"] == pytest.approx(
        usage["nat_processed_gb"] * price("aws", "nat_gateway_gb", region), abs=0.01
    )
    assert lines["Public IPv4 addresses"]["monthly_usd"] == pytest.approx(
        (infra["azs"] + nat) * price("aws", "public_ipv4_hour", region) * HOURS, abs=0.01
    )
    assert lines["CloudWatch Logs ingestion"]["monthly_usd"] == pytest.approx(
        usage["log_gb"] * price("aws", "log_ingest_gb", region), abs=0.01
    )
    assert lines["Cross-AZ data transfer"]["monthly_usd"] == pytest.approx(
        usage["cross_zone_gb"] * 2 * price("aws", "cross_az_gb", region), abs=0.01
    )
    for item in ("NAT gateways", "Public IPv4 addresses", "CloudWatch Logs ingestion"):
        assert lines[item]["monthly_usd"] > 0, item
    # HA doubling: Multi-AZ bills the standby instance and its storage; HA cache, two nodes.
    db = profile["sizing"]["db"]
    copies = 2 if db["multi_az"] else 1
    cls = infra["db_instance_class"]
    assert lines[f"RDS PostgreSQL {cls}"]["monthly_usd"] == pytest.approx(
        copies * price("aws", "rds_instance_hour", region, cls) * HOURS, abs=0.01
    )
    assert lines["RDS storage (gp3)"]["monthly_usd"] == pytest.approx(
        copies * db["storage_gb"] * price("aws", "rds_storage_gb_month", region), abs=0.01
    )
    nodes = 2 if profile["sizing"]["cache"]["ha"] else 1
    cache_line = lines[f"ElastiCache for Valkey {infra['cache_node_type']}"]
    assert cache_line["monthly_usd"] == pytest.approx(
        nodes * price("aws", "cache_node_hour", region, infra["cache_node_type"]) * HOURS,
        abs=0.01,
    )
    assert ("HA doubling" in cache_line["driver"]) == (nodes == 2)
    assert ("RDS read replicas" in lines) == (db["read_replicas"] > 0)
    assert ("AWS WAF" in lines) == profile["budget"]["waf"]


def test_gcp_and_azure_ha_doubling_and_forgotten_lines() -> None:
    for budget in ("startup", "growth"):
        profile = derive.build_profile(answers_of("medium", "gcp", budget, []))
        g, region = profile["infra"]["gcp"], profile["infra"]["gcp"]["region"]
        lines = lines_of(profile["cost"], "gcp")
        copies = 2 if g["db_availability_type"] == "REGIONAL" else 1
        assert copies == (2 if profile["sizing"]["db"]["multi_az"] else 1)
        cpus, mib = (int(x) for x in g["db_tier"].removeprefix("db-custom-").split("-"))
        hourly = cpus * price("gcp", "sql_vcpu_hour", region) + mib / 1024 * price(
            "gcp", "sql_memory_gb_hour", region
        )
        assert lines[f"Cloud SQL PostgreSQL {g['db_tier']}"]["monthly_usd"] == pytest.approx(
            copies * hourly * HOURS, abs=0.01
        )
        for item in ("Cloud NAT", "Public IPv4 addresses", "Cloud Logging ingestion"):
            assert item in lines, item
        assert "Cross-zone data transfer" in lines

        profile = derive.build_profile(answers_of("medium", "azure", budget, []))
        z, region = profile["infra"]["azure"], profile["infra"]["azure"]["region"]
        lines = lines_of(profile["cost"], "azure")
        copies = 2 if z["postgres_ha"] else 1
        assert lines[f"PostgreSQL Flexible Server {z['postgres_sku']}"][
            "monthly_usd"
        ] == pytest.approx(
            copies * price("azure", "postgres_hour", region, z["postgres_sku"]) * HOURS, abs=0.01
        )
        redis = 2 if z["redis_ha"] else 1
        assert lines[f"Azure Managed Redis {z['redis_sku']}"]["monthly_usd"] == pytest.approx(
            redis * price("azure", "redis_hour", region, z["redis_sku"]) * HOURS, abs=0.01
        )
        for item in ("NAT gateway", "Public IPv4 addresses", "Log Analytics ingestion"):
            assert item in lines, item
        assert ("Front Door Premium with WAF" in lines) == profile["budget"]["waf"]


def test_standby_clouds_are_priced_at_one_replica_with_full_database() -> None:
    answers = answers_of("medium", "multi-cloud", "growth", [])
    answers.update(clouds=["aws", "gcp"], primary_cloud="gcp")
    profile = derive.build_profile(answers)
    cost = profile["cost"]
    assert cost["clouds"]["gcp"]["replicas"] == {"web": 6, "worker": 3}
    assert cost["clouds"]["aws"]["replicas"] == {"web": 1, "worker": 1}
    standby = lines_of(cost, "aws")
    single = lines_of(
        derive.build_profile(answers_of("medium", "aws", "growth", []))["cost"], "aws"
    )
    cls = profile["infra"]["aws"]["db_instance_class"]
    assert standby[f"RDS PostgreSQL {cls}"] == single[f"RDS PostgreSQL {cls}"]
    assert standby["ECS Fargate web tasks"]["monthly_usd"] == pytest.approx(
        single["ECS Fargate web tasks"]["monthly_usd"] / 6, abs=0.01
    )


# ---------------------------------------------------------------------------------------
# Totals move with the answers
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("infra", INFRASTRUCTURES)
def test_totals_rise_with_scale(infra: str) -> None:
    for budget, frameworks in product(BUDGETS, ([], ["GDPR"], ["SOC2", "HIPAA"])):
        totals = [
            derive.estimate(answers_of(s, infra, budget, frameworks))["total_usd"] for s in SCALES
        ]
        assert totals[0] < totals[1] < totals[2], (infra, budget, frameworks, totals)


def test_fewer_clouds_cost_less() -> None:
    base = answers_of("small", "multi-cloud", "startup", [])
    three = derive.estimate({**base, "clouds": ["aws", "gcp", "azure"]})["total_usd"]
    for pair in (["aws", "gcp"], ["aws", "azure"], ["gcp", "azure"]):
        assert derive.estimate({**base, "clouds": pair})["total_usd"] < three, pair


# ---------------------------------------------------------------------------------------
# Refused when over the ceiling, with figures and answers that fit
# ---------------------------------------------------------------------------------------

OVER = answers_of("large", "aws", "growth", [])


def test_over_budget_refusal_names_figures_and_fitting_answers() -> None:
    cost = derive.estimate(OVER)
    assert cost["total_usd"] > cost["ceiling_usd"] == 5000
    message = derive.refusal(OVER)
    assert f"${cost['total_usd']:,.0f}/month" in message
    assert f"${cost['total_usd'] - cost['ceiling_usd']:,.0f}" in message
    assert "growth ceiling of $5,000/month" in message
    offered = derive.fitting_alternatives(OVER)
    assert {a["change"] for a in offered} == {
        "user_scale medium",
        "budget_constraints enterprise",
    }
    for alt in offered:
        profile = derive.build_profile(alt["answers"])
        assert profile["cost"]["total_usd"] <= profile["budget"]["monthly_ceiling_usd"]
        assert f"{alt['change']}: ${alt['total_usd']:,.0f}" in message


def test_budget_validator_alone_does_not_estimate() -> None:
    """The budget question comes before infrastructure is final and compliance is known:
    only the compliance validator, which sees every answer, holds the estimate."""
    partial = {k: v for k, v in OVER.items() if k != "compliance_requirements"}
    assert derive.refusal(partial) == ""
    assert derive.refusal(OVER)


def test_over_budget_copy_writes_nothing(tmp_path: Path) -> None:
    dst = tmp_path / "project"
    dst.mkdir()
    with pytest.raises(ValueError) as raised:
        render(dst, OVER)
    text = str(raised.value)
    assert text.startswith("Validation error for question"), text
    assert "compliance_requirements" in text
    assert derive.refusal(OVER) in text
    assert list(dst.iterdir()) == [], "a refused copy wrote files"


# ---------------------------------------------------------------------------------------
# docs/COSTS.md shows the profile's figures, and nothing else
# ---------------------------------------------------------------------------------------


def test_costs_template_reads_only_profile_cost() -> None:
    text = (REPO / "template" / "docs" / "COSTS.md.jinja").read_text(encoding="utf-8")
    assert "profile.cost" in text
    others = set(re.findall(r"profile\.(\w+)", text)) - {"cost"}
    assert not others, f"COSTS.md reads {others} besides profile.cost"


@pytest.fixture(scope="module")
def devops_costs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    project = render(tmp_path_factory.mktemp("costs") / "cloud_watch", load_scenario("devops"))
    return project / "docs" / "COSTS.md"


def test_costs_md_shows_the_profile_total(devops_costs: Path) -> None:
    cost = derive.build_profile(scenario_answers("devops"))["cost"]
    text = devops_costs.read_text(encoding="utf-8")
    assert f"| **total** | **${cost['total_usd']:,.2f}** |" in text
    assert f"${cost['ceiling_usd']:,.2f}" in text
    for cloud, c in cost["clouds"].items():
        assert f"## {cloud} ({c['role']}, {c['region']})" in text
        assert f"**${c['subtotal_usd']:,.2f}**" in text
        for line in c["lines"]:
            assert f"| {line['item']} | {line['driver']} | ${line['monthly_usd']:,.2f} |" in text
    for source in cost["sources"]:
        assert source["source"] in text and source["seen_at"] in text
        assert source["read"] in text and source["basis"] in text
    for a in cost["assumptions"]:
        assert a["label"] in text
    for r in cost["reductions"]:
        assert f"{r['change']}: ${r['total_usd']:,.2f}/month" in text
    readme = (devops_costs.parent.parent / "README.md").read_text(encoding="utf-8")
    assert "docs/COSTS.md" in readme and f"${cost['total_usd']:,.0f}/month" in readme
