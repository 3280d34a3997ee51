"""Turn the five business answers into one derived profile.

Copier loads this file by path (see `_jinja_extensions` in copier.yml). Every figure that
sizes, prices or secures the generated project is computed here, once, from the tables in
extensions/data/, and templates only read `profile`. The functions are plain Python so the
template's tests can call them for every answer combination.
"""

from __future__ import annotations

import copy
import math
import secrets
from functools import cache
from itertools import combinations
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
    its message live in one place and the unit tests exercise the same code. Each validator
    passes the answers known by then; the cost check needs all of them, so it runs from the
    last question's validator (compliance_requirements), before copier writes anything.
    """
    return _static_refusal(answers) or _budget_refusal(answers)


def _static_refusal(answers: dict[str, Any]) -> str:
    """The contradictions that need no estimate (each names what to choose instead)."""
    scale = answers.get("user_scale")
    budget = answers.get("budget_constraints")
    frameworks = list(answers.get("compliance_requirements") or [])
    budgets = table("budget")
    unknown = [f for f in frameworks if f not in FRAMEWORKS]
    if unknown:
        return f"Unknown compliance framework {unknown[0]!r}: choose from {', '.join(FRAMEWORKS)}."
    if answers.get("infrastructure") == "multi-cloud":
        clouds = list(answers.get("clouds") or CLOUDS)
        strange = [c for c in clouds if c not in CLOUDS]
        if strange:
            return f"Unknown cloud {strange[0]!r}: choose two or more of {', '.join(CLOUDS)}."
        if len(set(clouds)) < 2:
            return (
                "multi-cloud runs the service on two or more clouds: choose at least two of "
                f"{', '.join(CLOUDS)}, or answer infrastructure with the one cloud "
                f"({', '.join(clouds) or 'aws'}) instead."
            )
        primary = answers.get("primary_cloud") or clouds[0]
        if primary not in clouds:
            return (
                f"The primary cloud {primary!r} is not among the chosen clouds: choose one of "
                f"{', '.join(c for c in CLOUDS if c in clouds)}."
            )
    if scale == "large" and budget == "startup":
        return (
            "A large scale (~100,000 concurrent users) needs at least 6 web replicas and a "
            f"multi-AZ database, which do not fit the startup ceiling of "
            f"${budgets['startup']['monthly_ceiling_usd']:,}/month: choose the growth or "
            "enterprise budget (the estimate for your clouds is then held against its "
            "ceiling), or a small or medium user_scale."
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


def _infra(
    clouds: list[str], frameworks: list[str], scale: str, sizing: dict[str, Any]
) -> dict[str, dict[str, Any]]:
    """Name, per chosen cloud, the instance classes and SKUs of the profile's abstract sizes."""
    data = table("clouds")
    regions = data["regions"]["eu" if "GDPR" in frameworks else "default"]
    web, worker, db, cache_ = sizing["web"], sizing["worker"], sizing["db"], sizing["cache"]
    multi_az = db["multi_az"]
    azs = 3 if scale == "large" else 2
    memory_key = f"{cache_['memory_gb']:g}"
    infra: dict[str, dict[str, Any]] = {}
    for cloud in clouds:
        common = {"region": regions[cloud]}
        if cloud == "aws":
            infra[cloud] = {
                **common,
                "azs": azs,
                # One NAT gateway per AZ keeps egress alive when a zone fails; one in all
                # is the cheaper single point of failure a non-HA profile accepts.
                "nat_gateways": azs if multi_az else 1,
                "db_instance_class": data["aws"]["db_instance_class"][db["tier"]],
                "cache_node_type": data["aws"]["cache_node_type"][memory_key],
                "cache_replicas": 1 if cache_["ha"] else 0,
                # Fargate takes CPU units in powers of two from 256 (= 0.25 vCPU).
                "web_cpu": _fargate_cpu(web["cpu"]),
                "web_memory": web["memory"],
                "worker_cpu": _fargate_cpu(worker["cpu"]),
                "worker_memory": worker["memory"],
            }
        elif cloud == "gcp":
            infra[cloud] = {
                **common,
                "db_tier": data["gcp"]["db_tier"][db["tier"]],
                "db_availability_type": "REGIONAL" if multi_az else "ZONAL",
                "redis_tier": "STANDARD_HA" if cache_["ha"] else "BASIC",
                "redis_memory_gb": max(1, math.ceil(cache_["memory_gb"])),
                # Cloud Run: below 1 vCPU a service may have at most 512 MiB; ours have more.
                "web_cpu": str(max(1, web["cpu"] // 1000)),
                "web_memory": f"{web['memory']}Mi",
                "worker_cpu": str(max(1, worker["cpu"] // 1000)),
                "worker_memory": f"{worker['memory']}Mi",
            }
        else:
            sku = data["azure"]["postgres_sku"][db["tier"]]
            if multi_az and sku.startswith("B_"):
                sku = data["azure"]["postgres_ha_floor"]
            infra[cloud] = {
                **common,
                "postgres_sku": sku,
                "postgres_ha": multi_az,
                "redis_sku": data["azure"]["redis_sku"][memory_key],
                "redis_ha": cache_["ha"],
                # Container Apps: vCPU in quarters, with 2 GiB of memory per vCPU.
                "web_cpu": web["cpu"] / 1000,
                "web_memory": f"{web['cpu'] * 2 / 1000:g}Gi",
                "worker_cpu": worker["cpu"] / 1000,
                "worker_memory": f"{worker['cpu'] * 2 / 1000:g}Gi",
            }
    return infra


def _fargate_cpu(millicores: int) -> int:
    return max(256, 1 << math.ceil(math.log2(millicores * 1024 / 1000)))


def build_profile(answers: dict[str, Any]) -> dict[str, Any]:
    """Derive everything the templates need from the five answers.

    Raises ValueError for answers outside the choices or for a contradictory combination
    (including an estimate over the budget's ceiling), with the message the copier.yml
    validators show.
    """
    _check_choices(answers)
    # No compliance answer means none chosen: the estimate (and its check) still applies.
    answers = {**answers, "compliance_requirements": answers.get("compliance_requirements") or []}
    problem = refusal(answers)
    if problem:
        raise ValueError(problem)
    key = _key(answers)
    profile = dict(_base_profile(key))
    profile["cost"] = {**profile["cost"], "reductions": _reductions(key)}
    return copy.deepcopy(profile)


def estimate(answers: dict[str, Any]) -> dict[str, Any]:
    """The itemised monthly estimate of any answers within the choices, refused or not.

    The same computation `profile.cost` holds; the template's tests use it to state the
    budget rule (refused exactly when the estimate exceeds the ceiling) from outside.
    """
    _check_choices(answers)
    return copy.deepcopy(_base_profile(_key(answers))["cost"])


def _check_choices(answers: dict[str, Any]) -> None:
    for name, choices in (
        ("business_domain", DOMAINS),
        ("user_scale", SCALES),
        ("infrastructure", INFRASTRUCTURES),
        ("budget_constraints", BUDGETS),
    ):
        value = answers[name]
        if value not in choices:
            raise ValueError(f"{name} must be one of {', '.join(choices)}; got {value!r}.")


# One answer set as a hashable key: (domain, scale, infrastructure, budget, frameworks,
# clouds, primary). Profiles and estimates are cached by it, so the refusal, the profile and
# the alternatives offered all read one computation per answer set.
Key = tuple[str, str, str, str, tuple[str, ...], tuple[str, ...], str]


def _key(answers: dict[str, Any]) -> Key:
    frameworks = tuple(
        sorted(set(answers.get("compliance_requirements") or ()), key=FRAMEWORKS.index)
    )
    clouds, primary = _clouds(answers)
    return (
        answers["business_domain"],
        answers["user_scale"],
        answers["infrastructure"],
        answers["budget_constraints"],
        frameworks,
        tuple(clouds),
        primary,
    )


def _answers(key: Key) -> dict[str, Any]:
    domain, scale, infra, budget, frameworks, clouds, primary = key
    answers: dict[str, Any] = {
        "business_domain": domain,
        "user_scale": scale,
        "infrastructure": infra,
        "budget_constraints": budget,
        "compliance_requirements": list(frameworks),
    }
    if infra == "multi-cloud":
        answers["clouds"] = list(clouds)
        answers["primary_cloud"] = primary
    return answers


@cache
def _base_profile(key: Key) -> dict[str, Any]:
    """The profile of one answer set, with its estimate (not its alternatives), unchecked."""
    domain, scale, _, budget, frameworks_t, clouds_t, primary = key
    frameworks = list(frameworks_t)
    clouds = list(clouds_t)

    sizes = table("scale")[scale]
    money = table("budget")[budget]
    dom = table("domains")[domain]
    controls, features = _controls(frameworks)
    web, worker = sizes["web"], sizes["worker"]
    replicas_at_peak = web["max_replicas"] * web["processes"]
    pool = sizes["db"]["pool_size"] + sizes["db"]["max_overflow"]
    profile: dict[str, Any] = {
        "domain": {
            "key": domain,
            "package": dom["package"],
            "title": dom["title"],
            "description": dom["description"],
            "personal_data": bool(dom.get("personal_data", False)),
        },
        "scale": {"key": scale, "concurrent_users": sizes["concurrent_users"]},
        "clouds": clouds,
        "primary_cloud": primary,
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
    profile["infra"] = _infra(clouds, frameworks, scale, profile["sizing"])
    profile["cost"] = _cost(profile)
    return profile


# ---------------------------------------------------------------------------------------
# The monthly cost estimate (profile.cost), from data/pricing.yaml
# ---------------------------------------------------------------------------------------

# Usage-priced assumptions a standby cloud sees only a share of (see pricing.yaml).
_TRAFFIC = (
    "requests_millions",
    "internet_egress_gb",
    "lb_processed_gb",
    "alb_lcu",
    "log_gb",
    "nat_processed_gb",
    "cross_zone_gb",
)


class _Prices:
    """Prices of one cloud and region; remembers which entries the estimate used."""

    def __init__(self, cloud: str, region: str, used: dict[tuple[str, str, str], Any]) -> None:
        self.cloud, self.region, self.used = cloud, region, used
        self.entries = table("pricing")["prices"][cloud]

    def __call__(self, key: str, cls: str | None = None) -> float:
        entry = self.entries[key]
        value = entry["usd"][self.region]
        if cls is not None:
            value = value[cls]
        self.used.setdefault(
            (self.cloud, key, cls or ""),
            {
                "cloud": self.cloud,
                "item": f"{key} ({cls})" if cls else key,
                "region": self.region,
                "usd": float(value),
                "usd_text": f"{float(value):.6f}".rstrip("0").rstrip("."),
                "unit": entry["unit"],
                "source": entry["source"],
                "seen_at": entry.get("seen_at", entry["source"]),
                "read": str(entry["read"]),
                "basis": " ".join(str(entry["basis"]).split()),
            },
        )
        return float(value)


def _line(item: str, driver: str, usd: float) -> dict[str, Any]:
    return {"item": item, "driver": driver, "monthly_usd": round(usd, 2)}


def _qty(value: float) -> str:
    """A quantity for a driver text: whole above 10, else up to two significant digits."""
    return f"{value:,.0f}" if value >= 10 else f"{value:.2g}"


def _money(usd: float) -> str:
    return f"${usd:,.0f}" if usd >= 100 else f"${usd:,.2f}"


def _cost(p: dict[str, Any]) -> dict[str, Any]:
    """Itemise the monthly cost of a profile, per chosen cloud, against its budget ceiling.

    Computed once per answer set (the profile is cached) and read by the refusal, by the
    alternatives it offers, and by docs/COSTS.md, so the three can never disagree.
    """
    data = table("pricing")
    scale = p["scale"]["key"]
    usage = {a["key"]: a.get(scale, a.get("all")) for a in data["assumptions"]}
    multi = len(p["clouds"]) > 1
    standbys = [c for c in p["clouds"] if c != p["primary_cloud"]] if multi else []
    used: dict[tuple[str, str, str], Any] = {}
    clouds: dict[str, Any] = {}
    for cloud in p["clouds"]:
        role = "single" if not multi else "standby" if cloud in standbys else "primary"
        if role == "standby":
            share = usage["standby_traffic_share"]
            use = {k: (v * share if k in _TRAFFIC else v) for k, v in usage.items()}
            replicas = {"web": 1, "worker": 1}
        else:
            use = dict(usage)
            replicas = {
                "web": p["sizing"]["web"]["max_replicas"],
                "worker": p["sizing"]["worker"]["max_replicas"],
            }
        region = p["infra"][cloud]["region"]
        price = _Prices(cloud, region, used)
        lines = _CLOUD_LINES[cloud](p, p["infra"][cloud], price, use, replicas, data)
        if role == "primary" and standbys:
            gb = use["replication_gb"] * len(standbys)
            lines.append(
                _line(
                    "Replication to the standby clouds",
                    f"{gb:,.0f} GB/month of database changes sent to "
                    f"{', '.join(standbys)} at the internet egress rate",
                    gb * price("internet_egress_gb"),
                )
            )
        clouds[cloud] = {
            "cloud": cloud,
            "role": role,
            "region": region,
            "replicas": replicas,
            "lines": lines,
            "subtotal_usd": round(sum(x["monthly_usd"] for x in lines), 2),
        }
    shared: list[dict[str, Any]] = []
    if multi:
        dns = _Prices("dns", "global", used)
        checks = sum(
            dns("route53_check_aws_month" if c == "aws" else "route53_check_other_month")
            for c in p["clouds"]
        )
        shared = [
            _line(
                "Route 53 hosted zone",
                "1 zone holding the failover records",
                dns("route53_zone_month"),
            ),
            _line(
                "Route 53 health checks",
                f"{len(p['clouds'])} HTTPS checks of /health/ready, one per cloud",
                checks,
            ),
        ]
    total = round(
        sum(c["subtotal_usd"] for c in clouds.values()) + sum(x["monthly_usd"] for x in shared), 2
    )
    ceiling = p["budget"]["monthly_ceiling_usd"]
    every = [(c, x) for c, v in clouds.items() for x in v["lines"]]
    largest = sorted(every, key=lambda cx: -cx[1]["monthly_usd"])[:3]
    return {
        "currency": "USD",
        "budget_key": p["budget"]["key"],
        "clouds": clouds,
        "shared": {
            "lines": shared,
            "subtotal_usd": round(sum(x["monthly_usd"] for x in shared), 2),
        },
        "total_usd": total,
        "ceiling_usd": ceiling,
        "headroom_usd": round(ceiling - total, 2),
        "within_budget": total <= ceiling,
        "replicas_policy": " ".join(data["replicas_policy"].split()),
        "assumptions": [
            {
                "label": a["label"],
                "value": a.get(scale, a.get("all")),
                "why": " ".join(a["why"].split()),
            }
            for a in data["assumptions"]
            if multi or a["key"] not in ("replication_gb", "standby_traffic_share")
        ],
        "sources": list(used.values()),
        "largest_lines": [
            {"cloud": c, "item": x["item"], "monthly_usd": x["monthly_usd"]} for c, x in largest
        ],
    }


def _aws_lines(
    p: dict[str, Any],
    a: dict[str, Any],
    price: _Prices,
    use: dict[str, Any],
    replicas: dict[str, int],
    data: dict[str, Any],
) -> list[dict[str, Any]]:
    h = data["hours_per_month"]
    db = p["sizing"]["db"]
    vcpu, gb = price("fargate_vcpu_hour"), price("fargate_gb_hour")
    lines = [
        _task_line(
            "ECS Fargate web tasks",
            replicas["web"],
            a["web_cpu"] / 1024,
            a["web_memory"] / 1024,
            "GB",
            (vcpu, gb),
            h,
        ),
        _task_line(
            "ECS Fargate worker tasks",
            replicas["worker"],
            a["worker_cpu"] / 1024,
            a["worker_memory"] / 1024,
            "GB",
            (vcpu, gb),
            h,
        ),
    ]
    copies = 2 if db["multi_az"] else 1
    cls = a["db_instance_class"]
    lines += [
        _line(
            f"RDS PostgreSQL {cls}",
            "Multi-AZ: primary + synchronous standby, billed twice (HA doubling)"
            if copies == 2
            else "Single-AZ, one instance",
            copies * price("rds_instance_hour", cls) * h,
        ),
        _line(
            "RDS storage (gp3)",
            f"{db['storage_gb']} GB x {copies} cop{'ies' if copies == 2 else 'y'}",
            copies * db["storage_gb"] * price("rds_storage_gb_month"),
        ),
    ]
    if db["read_replicas"]:
        n = db["read_replicas"]
        lines.append(
            _line(
                "RDS read replicas",
                f"{n} x {cls} with {db['storage_gb']} GB each",
                n
                * (
                    price("rds_instance_hour", cls) * h
                    + db["storage_gb"] * price("rds_storage_gb_month")
                ),
            )
        )
    backup = _backup_gb(db, use) - db["storage_gb"] * copies
    lines.append(
        _line(
            "RDS backup storage beyond the free allowance",
            f"{max(0.0, backup):,.0f} GB: {db['backup_retention_days']} days of changes; "
            "storage equal to the database is free",
            max(0.0, backup) * price("rds_backup_gb_month"),
        )
    )
    nodes = 1 + a["cache_replicas"]
    lines.append(
        _line(
            f"ElastiCache for Valkey {a['cache_node_type']}",
            f"{nodes} nodes: primary + replica in another AZ (HA doubling)"
            if nodes > 1
            else "1 node, no replica",
            nodes * price("cache_node_hour", a["cache_node_type"]) * h,
        )
    )
    lines.append(
        _line(
            "Application Load Balancer",
            f"1 ALB all month + {_qty(use['alb_lcu'])} LCU on average",
            price("alb_hour") * h + use["alb_lcu"] * price("alb_lcu_hour") * h,
        )
    )
    nat = a["nat_gateways"]
    lines += [
        _line(
            "NAT gateways",
            f"{nat} gateway{'s, one per AZ' if nat > 1 else ', shared by all AZs'}, all month",
            nat * price("nat_gateway_hour") * h,
        ),
        _line(
            "NAT data processing",
            f"{_qty(use['nat_processed_gb'])} GB/month from the private subnets",
            use["nat_processed_gb"] * price("nat_gateway_gb"),
        ),
        _line(
            "Public IPv4 addresses",
            f"{a['azs'] + nat}: the ALB's in {a['azs']} AZs + {nat} on NAT gateways "
            "(tasks have none)",
            (a["azs"] + nat) * price("public_ipv4_hour") * h,
        ),
        _line(
            "CloudWatch Logs ingestion",
            f"{_qty(use['log_gb'])} GB/month",
            use["log_gb"] * price("log_ingest_gb"),
        ),
        _line(
            "Cross-AZ data transfer",
            f"{_qty(use['cross_zone_gb'])} GB/month, charged in both directions",
            use["cross_zone_gb"] * 2 * price("cross_az_gb"),
        ),
        _line(
            "Data transfer to the internet",
            f"{_qty(use['internet_egress_gb'])} GB/month",
            use["internet_egress_gb"] * price("internet_egress_gb"),
        ),
    ]
    if p["budget"]["waf"]:
        lines.append(
            _line(
                "AWS WAF",
                f"1 web ACL, {use['waf_rules']} rules, {_qty(use['requests_millions'])} M requests",
                price("waf_web_acl_month")
                + use["waf_rules"] * price("waf_rule_month")
                + use["requests_millions"] * price("waf_million_requests"),
            )
        )
    lines += [
        _line(
            "Secrets Manager", f"{use['secrets']} secrets", use["secrets"] * price("secret_month")
        ),
        _line(
            "S3 object storage",
            f"{_qty(use['object_storage_gb'])} GB",
            use["object_storage_gb"] * price("object_storage_gb_month"),
        ),
        _line(
            "AWS Budgets alarm",
            f"alarm at the ${p['budget']['monthly_ceiling_usd']:,} ceiling",
            price("budget_month"),
        ),
    ]
    return lines


def _gcp_lines(
    p: dict[str, Any],
    g: dict[str, Any],
    price: _Prices,
    use: dict[str, Any],
    replicas: dict[str, int],
    data: dict[str, Any],
) -> list[dict[str, Any]]:
    h, s = data["hours_per_month"], data["seconds_per_month"]
    db = p["sizing"]["db"]
    rates = (price("run_vcpu_second"), price("run_gib_second"))
    lines = [
        _task_line(
            "Cloud Run web instances (instance-based billing)",
            replicas["web"],
            float(g["web_cpu"]),
            int(g["web_memory"][:-2]) / 1024,
            "GiB",
            rates,
            s,
        ),
        _task_line(
            "Cloud Run worker instances (instance-based billing)",
            replicas["worker"],
            float(g["worker_cpu"]),
            int(g["worker_memory"][:-2]) / 1024,
            "GiB",
            rates,
            s,
        ),
    ]
    copies = 2 if g["db_availability_type"] == "REGIONAL" else 1
    tier = g["db_tier"]
    if tier.startswith("db-custom-"):
        cpus, mib = (int(x) for x in tier.removeprefix("db-custom-").split("-"))
        hourly = cpus * price("sql_vcpu_hour") + mib / 1024 * price("sql_memory_gb_hour")
        shape = f"{cpus} vCPU, {mib / 1024:g} GB"
    else:
        hourly = price("sql_shared_core_hour", tier)
        shape = "shared core"
    lines += [
        _line(
            f"Cloud SQL PostgreSQL {tier}",
            f"{shape}; "
            + (
                "REGIONAL HA: primary + standby, billed twice (HA doubling)"
                if copies == 2
                else "ZONAL, one instance"
            ),
            copies * hourly * h,
        ),
        _line(
            "Cloud SQL storage (SSD)",
            f"{db['storage_gb']} GB x {copies} cop{'ies' if copies == 2 else 'y'}",
            copies * db["storage_gb"] * price("sql_storage_gb_month"),
        ),
    ]
    if db["read_replicas"]:
        n = db["read_replicas"]
        lines.append(
            _line(
                "Cloud SQL read replicas",
                f"{n} x {tier} with {db['storage_gb']} GB each",
                n * (hourly * h + db["storage_gb"] * price("sql_storage_gb_month")),
            )
        )
    backup = _backup_gb(db, use)
    lines.append(
        _line(
            "Cloud SQL backups",
            f"{backup:,.0f} GB: a full copy + {db['backup_retention_days']} days of changes",
            backup * price("sql_backup_gb_month"),
        )
    )
    gb = g["redis_memory_gb"]
    band = "M1" if gb <= 4 else "M2" if gb <= 10 else "M3" if gb <= 35 else "M4"
    lines.append(
        _line(
            f"Memorystore for Redis {g['redis_tier']}",
            f"{gb} GB ({band} band)"
            + (
                "; Standard tier keeps a replica in another zone"
                if g["redis_tier"] == "STANDARD_HA"
                else "; no replica"
            ),
            gb * price("redis_gb_hour", f"{g['redis_tier']}-{band}") * h,
        )
    )
    free_logs = price("log_free_gb")
    lines += [
        _line(
            "External Application Load Balancer",
            f"1 forwarding rule all month + {_qty(use['lb_processed_gb'])} GB processed",
            price("lb_forwarding_rule_hour") * h
            + use["lb_processed_gb"] * price("lb_processed_gb"),
        ),
        _line(
            "Cloud NAT",
            "not used: Direct VPC egress sends only private ranges into the VPC; calls to "
            "the internet leave Cloud Run directly",
            0.0,
        ),
        _line(
            "Public IPv4 addresses",
            "the load balancer's address comes with its forwarding rule; Cloud Run has none",
            0.0,
        ),
        _line(
            "Cloud Logging ingestion",
            f"{_qty(use['log_gb'])} GiB/month, first {free_logs:g} GiB free per project",
            max(0.0, use["log_gb"] - free_logs) * price("log_ingest_gb"),
        ),
        _line(
            "Cross-zone data transfer",
            f"{_qty(use['cross_zone_gb'])} GB/month between zones of {g['region']}",
            use["cross_zone_gb"] * price("cross_zone_gb"),
        ),
        _line(
            "Data transfer to the internet",
            f"{_qty(use['internet_egress_gb'])} GB/month, Premium Tier",
            use["internet_egress_gb"] * price("internet_egress_gb"),
        ),
    ]
    if p["budget"]["waf"]:
        lines.append(
            _line(
                "Cloud Armor",
                f"1 policy, {use['waf_rules']} rules, {_qty(use['requests_millions'])} M requests",
                price("armor_policy_month")
                + use["waf_rules"] * price("armor_rule_month")
                + use["requests_millions"] * price("armor_million_requests"),
            )
        )
    lines += [
        _line(
            "Secret Manager",
            f"{use['secrets']} active secret versions",
            use["secrets"] * price("secret_month"),
        ),
        _line(
            "Cloud Storage",
            f"{_qty(use['object_storage_gb'])} GB Standard",
            use["object_storage_gb"] * price("object_storage_gb_month"),
        ),
        _line(
            "Cloud Billing budget",
            f"alerts at the ${p['budget']['monthly_ceiling_usd']:,} ceiling",
            price("budget_month"),
        ),
    ]
    return lines


def _azure_lines(
    p: dict[str, Any],
    z: dict[str, Any],
    price: _Prices,
    use: dict[str, Any],
    replicas: dict[str, int],
    data: dict[str, Any],
) -> list[dict[str, Any]]:
    h, s = data["hours_per_month"], data["seconds_per_month"]
    db = p["sizing"]["db"]
    rates = (price("apps_vcpu_second"), price("apps_gib_second"))
    lines = [
        _task_line(
            "Container Apps web replicas (active rate)",
            replicas["web"],
            float(z["web_cpu"]),
            float(z["web_memory"][:-2]),
            "GiB",
            rates,
            s,
        ),
        _task_line(
            "Container Apps worker replicas (active rate)",
            replicas["worker"],
            float(z["worker_cpu"]),
            float(z["worker_memory"][:-2]),
            "GiB",
            rates,
            s,
        ),
        _line(
            "Container Apps requests",
            f"{_qty(use['requests_millions'])} M requests/month",
            use["requests_millions"] * price("apps_million_requests"),
        ),
    ]
    copies = 2 if z["postgres_ha"] else 1
    sku = z["postgres_sku"]
    storage = max(db["storage_gb"], price("postgres_min_storage_gb"))
    lines += [
        _line(
            f"PostgreSQL Flexible Server {sku}",
            "zone-redundant HA: primary + standby, billed twice (HA doubling)"
            if copies == 2
            else "one server, no standby",
            copies * price("postgres_hour", sku) * h,
        ),
        _line(
            "PostgreSQL storage (Premium SSD)",
            f"{storage:g} GB x {copies} cop{'ies' if copies == 2 else 'y'}",
            copies * storage * price("postgres_storage_gb_month"),
        ),
    ]
    if db["read_replicas"]:
        n = db["read_replicas"]
        lines.append(
            _line(
                "PostgreSQL read replicas",
                f"{n} x {sku} with {storage:g} GB each",
                n
                * (price("postgres_hour", sku) * h + storage * price("postgres_storage_gb_month")),
            )
        )
    backup = _backup_gb(db, use) - storage * copies
    lines.append(
        _line(
            "PostgreSQL backup storage beyond the free allowance",
            f"{max(0.0, backup):,.0f} GB: {db['backup_retention_days']} days of changes; "
            "storage equal to the server's is free",
            max(0.0, backup) * price("postgres_backup_gb_month"),
        )
    )
    redis_copies = 2 if z["redis_ha"] else 1
    lines.append(
        _line(
            f"Azure Managed Redis {z['redis_sku']}",
            "high availability: a replica node, billed twice (HA doubling)"
            if redis_copies == 2
            else "no high availability",
            redis_copies * price("redis_hour", z["redis_sku"]) * h,
        )
    )
    if p["budget"]["waf"]:
        lines.append(
            _line(
                "Front Door Premium with WAF",
                f"base fee + {_qty(use['requests_millions'])} M requests (managed WAF rules included)",
                price("front_door_premium_month")
                + use["requests_millions"] * 100 * price("front_door_10k_requests"),
            )
        )
    else:
        lines.append(
            _line(
                "Load balancing",
                "Container Apps' built-in ingress; no Front Door without a WAF",
                0.0,
            )
        )
    lines += [
        _line(
            "NAT gateway",
            "not used: the Consumption environment's outbound traffic uses the platform's "
            "addresses",
            0.0,
        ),
        _line(
            "Public IPv4 addresses",
            "none billed separately: the environment's inbound address is part of Container Apps",
            0.0,
        ),
        _line(
            "Log Analytics ingestion",
            f"{_qty(use['log_gb'])} GB/month",
            use["log_gb"] * price("log_ingest_gb"),
        ),
        _line(
            "Cross-zone data transfer",
            f"{_qty(use['cross_zone_gb'])} GB/month; Azure does not charge between zones",
            use["cross_zone_gb"] * price("cross_zone_gb"),
        ),
        _line(
            "Data transfer to the internet",
            f"{_qty(use['internet_egress_gb'])} GB/month",
            use["internet_egress_gb"] * price("internet_egress_gb"),
        ),
        _line(
            "Key Vault operations",
            f"{use['key_vault_operations_10k'] * 10_000:,} secret reads/month; no per-secret fee",
            use["key_vault_operations_10k"] * price("key_vault_10k_operations"),
        ),
        _line(
            "Blob Storage",
            f"{_qty(use['object_storage_gb'])} GB Hot LRS",
            use["object_storage_gb"] * price("object_storage_gb_month"),
        ),
        _line(
            "Consumption budget",
            f"alerts at the ${p['budget']['monthly_ceiling_usd']:,} ceiling",
            price("budget_month"),
        ),
    ]
    return lines


def _task_line(
    item: str,
    count: int,
    vcpu: float,
    memory: float,
    unit: str,
    rates: tuple[float, float],
    periods: float,
) -> dict[str, Any]:
    """Containers priced per vCPU and per GB (or GiB) for `periods` hours or seconds."""
    return _line(
        item,
        f"{count} x {vcpu:g} vCPU / {memory:g} {unit}, all month",
        count * (vcpu * rates[0] + memory * rates[1]) * periods,
    )


def _backup_gb(db: dict[str, Any], use: dict[str, Any]) -> float:
    """Backup storage: one full copy plus the daily changes kept for the retention period."""
    return float(db["storage_gb"] * (1 + use["backup_daily_change"] * db["backup_retention_days"]))


_CLOUD_LINES = {"aws": _aws_lines, "gcp": _gcp_lines, "azure": _azure_lines}


# ---------------------------------------------------------------------------------------
# Held against the budget: the refusal, and the answers that would fit
# ---------------------------------------------------------------------------------------


def _complete(answers: dict[str, Any]) -> bool:
    """All answers an estimate needs, each one of its choices (the last validator's view)."""
    return (
        "compliance_requirements" in answers
        and answers.get("business_domain") in DOMAINS
        and answers.get("user_scale") in SCALES
        and answers.get("infrastructure") in INFRASTRUCTURES
        and answers.get("budget_constraints") in BUDGETS
    )


def _budget_refusal(answers: dict[str, Any]) -> str:
    """Refuse answers whose estimate exceeds the ceiling: by how much, and what would fit.

    Reads the same cached profile the copy would render, so the figures in the refusal are
    the ones docs/COSTS.md would have shown.
    """
    if not _complete(answers):
        return ""
    key = _key(answers)
    cost = _base_profile(key)["cost"]
    if cost["within_budget"]:
        return ""
    over = cost["total_usd"] - cost["ceiling_usd"]
    where = ", ".join(f"{c} {_money(v['subtotal_usd'])}" for c, v in cost["clouds"].items())
    fits = fitting_alternatives(answers)
    offer = (
        "Answers that fit: "
        + "; ".join(
            f"{alt['change']}: {_money(alt['total_usd'])} of {_money(alt['ceiling_usd'])}"
            for alt in fits
        )
        + "."
        if fits
        else "No single change of scale, budget or clouds fits: combine a smaller user_scale "
        "with a larger budget."
    )
    return (
        f"The estimated cost of these answers is {_money(cost['total_usd'])}/month ({where}), "
        f"{_money(over)} ({over / cost['ceiling_usd']:.0%}) over the "
        f"{cost['budget_key']} ceiling of {_money(cost['ceiling_usd'])}/month. {offer}"
    )


def fitting_alternatives(answers: dict[str, Any]) -> list[dict[str, Any]]:
    """Answer sets one change away that are accepted and whose estimate fits their ceiling.

    Each is re-estimated with the same code as the answers themselves: the largest smaller
    user_scale, the smallest larger budget and, for multi-cloud, fewer clouds (keeping the
    primary), down to the primary alone.
    """
    return [alt for alt in _alternatives(_key(answers), smaller=False) if alt["fits"]]


def _alternatives(key: Key, smaller: bool) -> list[dict[str, Any]]:
    """One-change alternatives: the nearest of each kind that is accepted (and, unless
    `smaller`, that fits), plus the cheaper budget when `smaller` (what would reduce cost)."""
    domain, scale, infra, budget, frameworks, clouds, primary = key
    out: list[dict[str, Any]] = []

    def consider(change: str, alt: Key) -> bool:
        answers = _answers(alt)
        if _static_refusal(answers):
            return False
        cost = _base_profile(alt)["cost"]
        if not smaller and not cost["within_budget"]:
            return False
        out.append(
            {
                "change": change,
                "answers": answers,
                "total_usd": cost["total_usd"],
                "ceiling_usd": cost["ceiling_usd"],
                "fits": cost["within_budget"],
            }
        )
        return True

    for s in reversed(SCALES[: SCALES.index(scale)]):
        if consider(f"user_scale {s}", (domain, s, infra, budget, frameworks, clouds, primary)):
            break
    budgets = BUDGETS[BUDGETS.index(budget) + 1 :]
    if smaller:
        budgets = tuple(reversed(BUDGETS[: BUDGETS.index(budget)]))
    for b in budgets:
        if consider(
            f"budget_constraints {b}", (domain, scale, infra, b, frameworks, clouds, primary)
        ):
            break
    if infra == "multi-cloud":
        others = [c for c in clouds if c != primary]
        for n in range(len(others) - 1, 0, -1):
            for kept in combinations(others, n):
                subset = tuple(c for c in CLOUDS if c == primary or c in kept)
                consider(
                    f"clouds {', '.join(subset)}",
                    (domain, scale, infra, budget, frameworks, subset, primary),
                )
        consider(
            f"infrastructure {primary}",
            (domain, scale, primary, budget, frameworks, (primary,), primary),
        )
    return out


def _reductions(key: Key) -> list[dict[str, Any]]:
    """What would reduce the estimate: the nearest cheaper answers, each re-estimated."""
    total = _base_profile(key)["cost"]["total_usd"]
    return [
        {
            "change": alt["change"],
            "total_usd": alt["total_usd"],
            "saving_usd": round(total - alt["total_usd"], 2),
            "ceiling_usd": alt["ceiling_usd"],
            "fits": alt["fits"],
        }
        for alt in _alternatives(key, smaller=True)
        if alt["total_usd"] < total
    ]


def _clouds(answers: dict[str, Any]) -> tuple[list[str], str]:
    """The clouds rendered (in a fixed order) and the one that takes writes."""
    infra = answers["infrastructure"]
    if infra != "multi-cloud":
        return [infra], infra
    chosen = [c for c in CLOUDS if c in (answers.get("clouds") or CLOUDS)]
    primary = answers.get("primary_cloud") or chosen[0]
    return chosen, primary


class ProfileHook(ContextHook):  # type: ignore[misc,valid-type]
    """Put `profile` into every template context, computed once per set of answers."""

    def hook(self, context: dict[str, Any]) -> None:
        keys = ("business_domain", "user_scale", "infrastructure", "budget_constraints")
        if not all(k in context for k in keys):
            return
        answers = {k: context[k] for k in keys}
        answers["compliance_requirements"] = tuple(context.get("compliance_requirements") or ())
        if context["infrastructure"] == "multi-cloud":
            answers["clouds"] = tuple(context.get("clouds") or CLOUDS)
            answers["primary_cloud"] = context.get("primary_cloud") or answers["clouds"][0]
        if refusal(answers):
            return  # the question's validator reports it, under the right question
        context["profile"] = _cached_profile(tuple(sorted(answers.items())))


@cache
def _cached_profile(items: tuple[tuple[str, Any], ...]) -> dict[str, Any]:
    answers = dict(items)
    answers["compliance_requirements"] = list(answers["compliance_requirements"])
    if "clouds" in answers:
        answers["clouds"] = list(answers["clouds"])
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
