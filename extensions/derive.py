"""Turn the five business answers into one derived profile.

Copier loads this file by path (see `_jinja_extensions` in copier.yml). Every figure that
sizes, prices or secures the generated project is computed here, once, from the tables in
extensions/data/, and templates only read `profile`. The functions are plain Python so the
template's tests can call them for every answer combination.
"""

from __future__ import annotations

import secrets
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from jinja2.ext import Extension

try:  # copier-template-extensions is the loader copier.yml names before this file.
    from copier_template_extensions import ContextHook
except ImportError:  # pragma: no cover - only when the profile is imported on its own
    ContextHook = Extension  # type: ignore[assignment,misc]

DATA = Path(__file__).parent / "data"
DOMAINS = ("ecommerce", "saas", "devops")
SCALES = ("small", "medium", "large")
CLOUDS = ("aws", "gcp", "azure")
INFRASTRUCTURES = (*CLOUDS, "multi-cloud")
BUDGETS = ("startup", "growth", "enterprise")
FRAMEWORKS = ("PCI-DSS", "GDPR", "SOC2", "ISO27001", "HIPAA")


@cache
def table(name: str) -> Any:
    """Read one data table (cached: copier builds a context per rendered file)."""
    return yaml.safe_load((DATA / f"{name}.yaml").read_text(encoding="utf-8"))


def refusal(answers: dict[str, Any]) -> str:
    """Say why a combination of answers is contradictory, or return "" when it is not.

    copier.yml's validators call this through the `prodkit_refusal` global, so the rule and
    its message live in one place and the unit tests exercise the same code.
    """
    scale = answers.get("user_scale")
    budget = answers.get("budget_constraints")
    frameworks = list(answers.get("compliance_requirements") or [])
    budgets = table("budget")
    unknown = [f for f in frameworks if f not in FRAMEWORKS]
    if unknown:
        return f"Unknown compliance framework {unknown[0]!r}: choose from {', '.join(FRAMEWORKS)}."
    if scale == "large" and budget == "startup":
        return (
            "A large scale (~100,000 concurrent users) needs at least 6 web replicas and a "
            f"multi-AZ database, which do not fit the startup ceiling of "
            f"${budgets['startup']['monthly_ceiling_usd']:,}/month: choose the growth or "
            "enterprise budget, or a small or medium user_scale."
        )
    if "PCI-DSS" in frameworks and answers.get("business_domain") != "ecommerce":
        return (
            "PCI-DSS covers card payments, and only the ecommerce domain takes payments: "
            "remove PCI-DSS, or choose business_domain ecommerce."
        )
    if "HIPAA" in frameworks and budget == "startup":
        return (
            "HIPAA needs multi-AZ storage, 6-year audit retention and a WAF, which the startup "
            "budget leaves out: choose the growth or enterprise budget, or remove HIPAA."
        )
    return ""


def _controls(frameworks: list[str]) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    data = table("controls")
    chosen = set(frameworks)
    controls = []
    features: dict[str, Any] = {
        "audit_log": False,
        "data_subject_rights": False,
        "retention": False,
    }
    for control in data["controls"]:
        refs = {fw: ref for fw, ref in control["frameworks"].items() if fw in chosen}
        if not refs:
            continue
        controls.append({**control, "frameworks": refs})
        if "feature" in control:
            features[control["feature"]] = True
    retention = max((data["frameworks"][fw]["data_retention_days"] for fw in chosen), default=90)
    features["retention_days"] = retention
    return controls, features


def build_profile(answers: dict[str, Any]) -> dict[str, Any]:
    """Derive everything the templates need from the five answers.

    Raises ValueError for answers outside the choices or for a contradictory combination,
    with the same message the copier.yml validators show.
    """
    domain, scale = answers["business_domain"], answers["user_scale"]
    infra, budget = answers["infrastructure"], answers["budget_constraints"]
    for name, value, choices in (
        ("business_domain", domain, DOMAINS),
        ("user_scale", scale, SCALES),
        ("infrastructure", infra, INFRASTRUCTURES),
        ("budget_constraints", budget, BUDGETS),
    ):
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")
    problem = refusal(answers)
    if problem:
        raise ValueError(problem)
    frameworks = sorted(answers.get("compliance_requirements") or [], key=FRAMEWORKS.index)

    sizes = table("scale")[scale]
    money = table("budget")[budget]
    dom = table("domains")[domain]
    controls, features = _controls(frameworks)
    web, worker = sizes["web"], sizes["worker"]
    replicas_at_peak = web["max_replicas"] * web["processes"]
    pool = sizes["db"]["pool_size"] + sizes["db"]["max_overflow"]
    return {
        "domain": {
            "key": domain,
            "package": dom["package"],
            "title": dom["title"],
            "description": dom["description"],
            "personal_data": bool(dom.get("personal_data", False)),
        },
        "scale": {"key": scale, "concurrent_users": sizes["concurrent_users"]},
        "clouds": list(CLOUDS) if infra == "multi-cloud" else [infra],
        "primary_cloud": "aws" if infra == "multi-cloud" else infra,
        "sizing": {
            "web": dict(web),
            "worker": dict(worker),
            "autoscale_cpu_target": sizes["autoscale_cpu_target"],
            "db": {
                "tier": money["db_tier"][scale],
                "storage_gb": sizes["db"]["storage_gb"],
                "pool_size": sizes["db"]["pool_size"],
                "max_overflow": sizes["db"]["max_overflow"],
                # Connections the web tier can open at peak: what max_connections must allow.
                "peak_connections": replicas_at_peak * pool
                + worker["max_replicas"] * worker["concurrency"],
                "multi_az": money["multi_az"],
                "read_replicas": money["db_read_replicas"],
                "backup_retention_days": money["backup_retention_days"],
                "deletion_protection": money["deletion_protection"],
            },
            "cache": {
                "tier": money["cache_tier"][scale],
                "memory_gb": sizes["cache"]["memory_gb"],
                "ha": money["cache_tier"][scale] == "standard",
            },
            "rate_limits": dict(sizes["rate_limits"]),
        },
        "sla": {
            "p95_latency_ms": dom["sla"]["p95_latency_ms"],
            "throughput_rps": dom["sla"]["throughput_rps"][scale],
            "availability": money["availability"],
            "signal": dom["sla"]["signal"],
        },
        "budget": {
            "key": budget,
            "monthly_ceiling_usd": money["monthly_ceiling_usd"],
            "waf": money["waf"],
        },
        "compliance": {
            "frameworks": frameworks,
            "titles": {fw: table("controls")["frameworks"][fw]["title"] for fw in frameworks},
            "controls": controls,
            "features": features,
        },
    }


class ProfileHook(ContextHook):  # type: ignore[misc,valid-type]
    """Put `profile` into every template context, computed once per set of answers."""

    def hook(self, context: dict[str, Any]) -> None:
        keys = ("business_domain", "user_scale", "infrastructure", "budget_constraints")
        if not all(k in context for k in keys):
            return
        answers = {k: context[k] for k in keys}
        answers["compliance_requirements"] = tuple(context.get("compliance_requirements") or ())
        if refusal(answers):
            return  # the question's validator reports it, under the right question
        context["profile"] = _cached_profile(tuple(sorted(answers.items())))


@cache
def _cached_profile(items: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    answers = dict(items)
    answers["compliance_requirements"] = list(answers["compliance_requirements"])
    return build_profile(answers)


class Helpers(Extension):
    """Globals for copier.yml and templates: validators and copy-time secrets."""

    def __init__(self, environment: Any) -> None:
        super().__init__(environment)
        environment.globals["prodkit_refusal"] = refusal
        # A fresh secret each time it is called: used only in `.env`, which is git-ignored
        # and never overwritten by `copier update` (`_skip_if_exists`).
        environment.globals["new_secret"] = lambda n=32: secrets.token_urlsafe(n)
        environment.tests["python_identifier"] = _is_python_identifier


def _is_python_identifier(value: str) -> bool:
    import keyword

    return value.isidentifier() and value.isascii() and not keyword.iskeyword(value)
