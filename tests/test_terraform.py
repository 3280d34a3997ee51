"""The Terraform rendered under infra/terraform/: it parses, and it is the profile's.

Every .tf and .tfvars file of the three scenarios and of a set of multi-cloud answers (one
per scale x budget that is not refused, so each cloud is rendered at every size) parses with
python-hcl2. The figures in each cloud's profile.auto.tfvars equal the derived profile's and
reach the resources that use them; small, medium and large differ, and so do startup,
growth and enterprise; budgets equal the ceiling; a WAF is rendered exactly when the budget
buys one; multi-cloud renders DNS failover with the chosen primary.
"""

from __future__ import annotations

import importlib
import re
import sys
from collections.abc import Iterator
from functools import cache
from itertools import product
from pathlib import Path
from typing import Any

import hcl2
import pytest
from conftest import REPO, SCENARIO_NAMES, RenderFn, load_scenario

sys.path.insert(0, str(REPO / "extensions"))
derive = importlib.import_module("derive")

pytestmark = pytest.mark.slow

# Every cloud at every scale x budget that is not refused: one multi-cloud render of all three
# clouds where its estimate fits the budget, else one render per cloud that fits. The primary
# rotates so each cloud is primary somewhere and standby elsewhere; domains rotate too.
_PRIMARIES = ("aws", "gcp", "azure")
EXTRA: dict[str, dict[str, Any]] = {}
# (scale, budget, cloud) -> the key of a render that holds that cloud at that size.
COVER: dict[tuple[str, str, str], str] = {}
for _i, (_scale, _budget) in enumerate(product(derive.SCALES, derive.BUDGETS)):
    _base = {
        "project_name": "Infra Check",
        "business_domain": derive.DOMAINS[_i % len(derive.DOMAINS)],
        "user_scale": _scale,
        "budget_constraints": _budget,
        "compliance_requirements": ["SOC2"],
    }
    _multi = {
        **_base,
        "infrastructure": "multi-cloud",
        "clouds": list(derive.CLOUDS),
        "primary_cloud": _PRIMARIES[_i % len(_PRIMARIES)],
    }
    if not derive.refusal(_multi):
        EXTRA[f"tf-{_scale}-{_budget}"] = _multi
        COVER.update({(_scale, _budget, c): f"tf-{_scale}-{_budget}" for c in derive.CLOUDS})
        continue
    for _cloud in derive.CLOUDS:
        _single = {**_base, "infrastructure": _cloud}
        if not derive.refusal(_single):
            EXTRA[f"tf-{_scale}-{_budget}-{_cloud}"] = _single
            COVER[(_scale, _budget, _cloud)] = f"tf-{_scale}-{_budget}-{_cloud}"
ANSWERS: dict[str, dict[str, Any]] = {
    **{f"scenario-{name}": load_scenario(name) for name in SCENARIO_NAMES},
    **EXTRA,
}
# Two clouds only, the primary not first: failover with a single SECONDARY.
_PAIR = {
    "project_name": "Infra Pair",
    "business_domain": "saas",
    "user_scale": "small",
    "infrastructure": "multi-cloud",
    "clouds": ["aws", "azure"],
    "primary_cloud": "azure",
    "budget_constraints": "growth",
    "compliance_requirements": [],
}
if not derive.refusal(_PAIR):
    ANSWERS["tf-pair-azure-primary"] = _PAIR


def test_every_cloud_is_covered_at_every_size() -> None:
    """The answer sets above hold each cloud at each scale x budget the template accepts."""
    for scale, budget, cloud in product(derive.SCALES, derive.BUDGETS, derive.CLOUDS):
        single = {
            "business_domain": "devops",
            "user_scale": scale,
            "budget_constraints": budget,
            "infrastructure": cloud,
            "compliance_requirements": ["SOC2"],
        }
        if not derive.refusal(single):
            assert (scale, budget, cloud) in COVER, (scale, budget, cloud)
    assert "tf-pair-azure-primary" in ANSWERS


ENV_NAMES = {
    "APP_ENV",
    "REDIS_PREFIX",
    "CORS_ORIGINS",
    "LOG_LEVEL",
    "HOST",
    "PORT",
    "WEB_CONCURRENCY",
    "WORKER_CONCURRENCY",
    "DB_POOL_SIZE",
    "DB_MAX_OVERFLOW",
    "RATE_LIMIT_ANONYMOUS",
    "RATE_LIMIT_AUTHENTICATED",
    "RATE_LIMIT_LOGIN",
    "ACCESS_TOKEN_TTL_SECONDS",
    "REFRESH_TOKEN_TTL_SECONDS",
    "EVENT_RETENTION_DAYS",
    "OUTBOX_POLL_SECONDS",
}
SECRET_NAMES = {"SECRET_KEY", "DATABASE_URL", "REDIS_URL"}
STRIPE_NAMES = {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}


def profile_of(answers: dict[str, Any]) -> dict[str, Any]:
    return derive.build_profile(dict(answers))  # type: ignore[no-any-return]


def _clean(value: Any) -> Any:
    """python-hcl2 keeps the quotes of string literals and labels and adds markers: drop them."""
    if isinstance(value, dict):
        return {
            _clean(k): _clean(v)
            for k, v in value.items()
            if k not in ("__is_block__", "__comments__", "__inline_comments__")
        }
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


@cache
def parse(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        return _clean(hcl2.load(handle))  # type: ignore[no-any-return]


class Stack:
    """One cloud folder, parsed: its tfvars, resources, variables and locals by name."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.tfvars = (
            parse(folder / "profile.auto.tfvars")
            if (folder / "profile.auto.tfvars").exists()
            else {}
        )
        self.resources: dict[str, dict[str, Any]] = {}
        self.variables: dict[str, Any] = {}
        self.locals: dict[str, Any] = {}
        for tf in sorted(folder.glob("*.tf")):
            doc = parse(tf)
            for block in doc.get("resource", []):
                for rtype, named in block.items():
                    self.resources.setdefault(rtype, {}).update(named)
            for block in doc.get("variable", []):
                self.variables.update(block)
            for block in doc.get("locals", []):
                self.locals.update(block)

    def resource(self, rtype: str, name: str) -> dict[str, Any]:
        assert name in self.resources.get(rtype, {}), f"{self.folder.name}: no {rtype}.{name}"
        return self.resources[rtype][name]


def tf_root(project: Path) -> Path:
    return project / "infra" / "terraform"


@pytest.fixture(params=sorted(ANSWERS), scope="module")
def rendered(
    request: pytest.FixtureRequest, shared_render: RenderFn
) -> tuple[Path, dict[str, Any]]:
    key: str = request.param
    answers = ANSWERS[key]
    return shared_render(key, answers), profile_of(answers)


def stacks(project: Path, profile: dict[str, Any]) -> Iterator[tuple[str, Stack]]:
    for cloud in profile["clouds"]:
        yield cloud, Stack(tf_root(project) / cloud)


def test_folders_follow_the_clouds(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, profile = rendered
    multi = len(profile["clouds"]) > 1
    expected = set(profile["clouds"]) | ({"global"} if multi else set())
    found = {p.name for p in tf_root(project).iterdir() if p.is_dir()}
    assert found == expected
    assert (tf_root(project) / "FAILOVER.md").exists() == multi
    for cloud in profile["clouds"]:
        folder = tf_root(project) / cloud
        for name in (
            "versions.tf",
            "variables.tf",
            "outputs.tf",
            "profile.auto.tfvars",
            "README.md",
        ):
            assert (folder / name).is_file(), f"{cloud}/{name} missing"
        readme = (folder / "README.md").read_text(encoding="utf-8")
        for step in (
            "terraform init -backend-config",
            "terraform plan",
            "terraform apply",
            "docker push",
            "/health/ready",
        ):
            assert step in readme, f"{cloud}/README.md lacks {step!r}"


def test_every_file_parses(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, _ = rendered
    files = sorted(tf_root(project).rglob("*.tf")) + sorted(tf_root(project).rglob("*.tfvars"))
    assert files
    for path in files:
        parse(path)  # raises on a syntax error
    for folder in (p for p in tf_root(project).iterdir() if p.is_dir()):
        backends = [
            b
            for tf in folder.glob("*.tf")
            for t in parse(tf).get("terraform", [])
            for b in t.get("backend", [])
        ]
        assert len(backends) == 1, f"{folder.name}: one (partial) backend block, found {backends}"
        # Partial configuration: no bucket or account committed.
        settings = next(iter(backends[0].values()))
        assert not {"bucket", "storage_account_name", "key", "prefix"} & set(settings)
        # Every tfvars entry is a declared variable.
        stack = Stack(folder)
        assert set(stack.tfvars) <= set(stack.variables), set(stack.tfvars) - set(stack.variables)


def _expected_replicas(profile: dict[str, Any], cloud: str) -> dict[str, int]:
    sizing = profile["sizing"]
    standby = len(profile["clouds"]) > 1 and cloud != profile["primary_cloud"]
    return {
        "web_min_replicas": 1 if standby else sizing["web"]["min_replicas"],
        "web_max_replicas": sizing["web"]["max_replicas"],
        "worker_min_replicas": 1 if standby else sizing["worker"]["min_replicas"],
        "worker_max_replicas": sizing["worker"]["max_replicas"],
    }


def expected_tfvars(profile: dict[str, Any], cloud: str) -> dict[str, Any]:
    """What profile.auto.tfvars of `cloud` must say, from the profile alone."""
    infra, sizing, db = profile["infra"][cloud], profile["sizing"], profile["sizing"]["db"]
    standby = len(profile["clouds"]) > 1 and cloud != profile["primary_cloud"]
    common = {
        "region": infra["region"],
        "role": "standby" if standby else "primary",
        "monthly_budget_usd": profile["budget"]["monthly_ceiling_usd"],
        "db_storage_gb": db["storage_gb"],
        "db_backup_retention_days": db["backup_retention_days"],
        "db_deletion_protection": db["deletion_protection"],
        "db_peak_connections": db["peak_connections"],
        "db_logical_replication": len(profile["clouds"]) > 1,
        "rate_limit_authenticated": sizing["rate_limits"]["authenticated"],
        **_expected_replicas(profile, cloud),
    }
    if cloud == "aws":
        return {
            **common,
            "azs": infra["azs"],
            "nat_gateways": infra["nat_gateways"],
            "web_cpu": infra["web_cpu"],
            "web_memory": infra["web_memory"],
            "worker_cpu": infra["worker_cpu"],
            "worker_memory": infra["worker_memory"],
            "autoscale_cpu_target": sizing["autoscale_cpu_target"],
            "throughput_rps": profile["sla"]["throughput_rps"],
            "p95_latency_ms": profile["sla"]["p95_latency_ms"],
            "db_instance_class": infra["db_instance_class"],
            "db_multi_az": db["multi_az"],
            "db_read_replicas": db["read_replicas"],
            "cache_node_type": infra["cache_node_type"],
            "cache_replicas": infra["cache_replicas"],
            "cache_ha": sizing["cache"]["ha"],
        }
    if cloud == "gcp":
        return {
            **common,
            "web_cpu": infra["web_cpu"],
            "web_memory": infra["web_memory"],
            "worker_cpu": infra["worker_cpu"],
            "worker_memory": infra["worker_memory"],
            "p95_latency_ms": profile["sla"]["p95_latency_ms"],
            "db_tier": infra["db_tier"],
            "db_availability_type": infra["db_availability_type"],
            "db_read_replicas": db["read_replicas"],
            "redis_tier": infra["redis_tier"],
            "redis_memory_gb": infra["redis_memory_gb"],
        }
    return {
        **common,
        "web_cpu": infra["web_cpu"],
        "web_memory": infra["web_memory"],
        "worker_cpu": infra["worker_cpu"],
        "worker_memory": infra["worker_memory"],
        "autoscale_cpu_target": sizing["autoscale_cpu_target"],
        "throughput_rps": profile["sla"]["throughput_rps"],
        "p95_latency_ms": profile["sla"]["p95_latency_ms"],
        "postgres_sku": infra["postgres_sku"],
        "postgres_ha": infra["postgres_ha"],
        "redis_sku": infra["redis_sku"],
        "redis_ha": infra["redis_ha"],
        "frontdoor_sku": "Premium_AzureFrontDoor"
        if profile["budget"]["waf"]
        else "Standard_AzureFrontDoor",
        "log_retention_days": profile["compliance"]["features"]["retention_days"],
    }


def test_sizes_are_the_profiles(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, profile = rendered
    for cloud, stack in stacks(project, profile):
        expected = expected_tfvars(profile, cloud)
        actual = {k: stack.tfvars.get(k) for k in expected}
        assert actual == expected, f"{cloud}: profile.auto.tfvars differs from the profile"
        # The name every resource is built from passes the variable's own validation.
        assert re.fullmatch(r"[a-z][a-z0-9-]{1,23}", stack.tfvars["name"]), stack.tfvars["name"]


def test_resources_use_the_sized_variables(rendered: tuple[Path, dict[str, Any]]) -> None:
    """The tfvars are not decoration: the resources read them."""
    project, profile = rendered
    for cloud, stack in stacks(project, profile):
        if cloud == "aws":
            db = stack.resource("aws_db_instance", "main")
            assert db["instance_class"] == "${var.db_instance_class}"
            assert db["multi_az"] == "${var.db_multi_az}"
            assert db["allocated_storage"] == "${var.db_storage_gb}"
            assert db["backup_retention_period"] == "${var.db_backup_retention_days}"
            assert db["storage_encrypted"] is True and db["publicly_accessible"] is False
            cache = stack.resource("aws_elasticache_replication_group", "main")
            assert cache["engine"] == "valkey" and cache["node_type"] == "${var.cache_node_type}"
            assert cache["transit_encryption_enabled"] is True and "auth_token" in cache
            processes = stack.locals["processes"]
            assert "var.web_cpu" in str(processes) and "var.worker_memory" in str(processes)
            assert (
                stack.resource("aws_ecs_service", "web")["desired_count"]
                == "${var.web_min_replicas}"
            )
            assert "max_connections" in str(stack.resource("aws_db_parameter_group", "main"))
            target = stack.resource("aws_appautoscaling_policy", "cpu")
            assert "var.autoscale_cpu_target" in str(target)
            assert "ALBRequestCountPerTarget" in str(
                stack.resource("aws_appautoscaling_policy", "requests")
            )
            assert "var.p95_latency_ms" in str(
                stack.resource("aws_cloudwatch_metric_alarm", "p95_latency")
            )
            assert (
                stack.resource("aws_ecs_task_definition", "app")["for_each"] == "${local.processes}"
            )
            assert {"web", "worker", "migrate"} == set(_literal_keys(stack.locals["processes"]))
        elif cloud == "gcp":
            sql = stack.resource("google_sql_database_instance", "main")
            settings = sql["settings"][0]
            assert settings["tier"] == "${var.db_tier}"
            assert settings["availability_type"] == "${var.db_availability_type}"
            assert settings["ip_configuration"][0]["ipv4_enabled"] is False
            redis = stack.resource("google_redis_instance", "main")
            assert redis["tier"] == "${var.redis_tier}" and redis["auth_enabled"] is True
            web = stack.resource("google_cloud_run_v2_service", "web")["template"][0]
            assert web["scaling"][0]["min_instance_count"] == "${var.web_min_replicas}"
            assert web["scaling"][0]["max_instance_count"] == "${var.web_max_replicas}"
            vpc = web["vpc_access"][0]
            assert vpc["egress"] == "PRIVATE_RANGES_ONLY" and "network_interfaces" in vpc
            assert "connector" not in vpc
            assert "google_vpc_access_connector" not in stack.resources
            assert "google_cloud_run_v2_job" in stack.resources
        else:
            pg = stack.resource("azurerm_postgresql_flexible_server", "main")
            assert pg["sku_name"] == "${var.postgres_sku}"
            assert pg["public_network_access_enabled"] is False
            assert "var.postgres_ha" in str(pg["dynamic"])
            redis = stack.resource("azurerm_managed_redis", "main")
            assert redis["sku_name"] == "${var.redis_sku}"
            assert redis["high_availability_enabled"] == "${var.redis_ha}"
            assert "azurerm_redis_cache" not in stack.resources
            assert "var.web_min_replicas" in str(stack.locals["processes"])
            app = str(stack.resource("azurerm_container_app", "app"))
            assert "http_scale_rule" in app and "custom_scale_rule" in app
            assert "azurerm_container_app_job" in stack.resources
            assert "azurerm_log_analytics_workspace" in stack.resources


def _literal_keys(value: Any) -> list[str]:
    return list(value) if isinstance(value, dict) else []


def test_budget_is_the_ceiling(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, profile = rendered
    ceiling = profile["budget"]["monthly_ceiling_usd"]
    for cloud, stack in stacks(project, profile):
        assert stack.tfvars["monthly_budget_usd"] == ceiling
        if cloud == "aws":
            budget = stack.resource("aws_budgets_budget", "monthly")
            assert "var.monthly_budget_usd" in budget["limit_amount"]
            kinds = {(n["threshold"], n["notification_type"]) for n in budget["notification"]}
            assert kinds == {(80, "FORECASTED"), (100, "ACTUAL")}
        elif cloud == "gcp":
            budget = stack.resource("google_billing_budget", "monthly")
            assert "var.monthly_budget_usd" in str(budget["amount"])
            rules = {(r["threshold_percent"], r["spend_basis"]) for r in budget["threshold_rules"]}
            assert rules == {(0.8, "FORECASTED_SPEND"), (1.0, "CURRENT_SPEND")}
        else:
            budget = stack.resource("azurerm_consumption_budget_resource_group", "monthly")
            assert budget["amount"] == "${var.monthly_budget_usd}"
            kinds = {(n["threshold"], n["threshold_type"]) for n in budget["notification"]}
            assert kinds == {(80, "Forecasted"), (100, "Actual")}


WAF_RESOURCES = {
    "aws": ("aws_wafv2_web_acl", "aws_wafv2_web_acl_association"),
    "gcp": ("google_compute_security_policy",),
    "azure": ("azurerm_cdn_frontdoor_firewall_policy", "azurerm_cdn_frontdoor_security_policy"),
}


def test_waf_exactly_when_the_budget_buys_one(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, profile = rendered
    waf = profile["budget"]["waf"]
    for cloud, stack in stacks(project, profile):
        for rtype in WAF_RESOURCES[cloud]:
            assert (rtype in stack.resources) == waf, f"{cloud}: {rtype} with waf={waf}"
        if cloud == "gcp":
            backend = stack.resource("google_compute_backend_service", "web")
            assert ("security_policy" in backend) == waf


def test_environment_is_the_contract(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, profile = rendered
    secrets = SECRET_NAMES | (STRIPE_NAMES if profile["domain"]["key"] == "ecommerce" else set())
    for cloud, stack in stacks(project, profile):
        env, secret = stack.locals["app_env"], stack.locals["app_secrets"]
        assert set(env) == ENV_NAMES, cloud
        assert set(secret) == secrets, cloud
        assert set(stack.locals["secret_values"]) == secrets, cloud
        assert env["APP_ENV"] == "production" and env["HOST"] == "0.0.0.0"
        assert env["WEB_CONCURRENCY"] == str(profile["sizing"]["web"]["processes"])
        assert env["WORKER_CONCURRENCY"] == str(profile["sizing"]["worker"]["concurrency"])
        assert env["DB_POOL_SIZE"] == str(profile["sizing"]["db"]["pool_size"])
        assert env["RATE_LIMIT_ANONYMOUS"] == profile["sizing"]["rate_limits"]["anonymous"]
        assert env["EVENT_RETENTION_DAYS"] == str(
            profile["compliance"]["features"]["retention_days"]
        )
        values = stack.locals["secret_values"]
        assert values["DATABASE_URL"].startswith("postgresql+asyncpg://")
        assert values["REDIS_URL"].startswith("rediss://:")


def test_failover_in_code(rendered: tuple[Path, dict[str, Any]]) -> None:
    project, profile = rendered
    if len(profile["clouds"]) < 2:
        pytest.skip("single cloud: no failover")
    primary = profile["primary_cloud"]
    standbys = [c for c in profile["clouds"] if c != primary]
    dns = Stack(tf_root(project) / "global")
    records = dns.resources["aws_route53_record"]
    checks = dns.resource("aws_route53_health_check", "cloud")
    assert checks["resource_path"] == "/health/ready" and checks["type"] == "HTTPS"
    assert set(dns.locals["endpoints"]) == set(profile["clouds"])
    top = {
        r["failover_routing_policy"][0]["type"]: r
        for r in records.values()
        if "failover_routing_policy" in r and r["name"] == "${var.hostname}"
    }
    assert set(top) == {"PRIMARY", "SECONDARY"}
    assert top["PRIMARY"]["set_identifier"] == primary
    assert f'endpoints["{primary}"]' in str(top["PRIMARY"]["records"])
    if len(standbys) == 1:
        assert top["SECONDARY"]["set_identifier"] == standbys[0]
    else:
        chain = {
            r["failover_routing_policy"][0]["type"]: r["set_identifier"]
            for r in records.values()
            if "failover_routing_policy" in r and r["name"] != "${var.hostname}"
        }
        assert chain == {"PRIMARY": standbys[0], "SECONDARY": standbys[1]}
    plan = (tf_root(project) / "FAILOVER.md").read_text(encoding="utf-8")
    for needle in (
        "RPO",
        "RTO",
        "logical replication",
        "CREATE SUBSCRIPTION",
        "promote",
        "fail back",
        "Redis is a cache",
    ):
        assert needle.lower() in plan.lower(), needle
    assert f"**{primary} is the primary**" in plan
    for cloud in standbys:
        tfvars = Stack(tf_root(project) / cloud).tfvars
        assert tfvars["role"] == "standby" and tfvars["web_min_replicas"] == 1


# ---------------------------------------------------------------------------------------
# Across answers: the sizes move with scale and budget
# ---------------------------------------------------------------------------------------

SIZED = {
    "aws": (
        "web_cpu",
        "web_memory",
        "web_max_replicas",
        "db_instance_class",
        "cache_node_type",
        "db_multi_az",
        "db_backup_retention_days",
        "monthly_budget_usd",
    ),
    "gcp": (
        "web_cpu",
        "web_memory",
        "web_max_replicas",
        "db_tier",
        "redis_memory_gb",
        "db_availability_type",
        "db_backup_retention_days",
        "monthly_budget_usd",
    ),
    "azure": (
        "web_cpu",
        "web_memory",
        "web_max_replicas",
        "postgres_sku",
        "redis_sku",
        "postgres_ha",
        "db_backup_retention_days",
        "monthly_budget_usd",
    ),
}


def test_sizes_differ_across_scales_and_budgets(shared_render: RenderFn) -> None:
    def sized(scale: str, budget: str, cloud: str) -> tuple[Any, ...]:
        key = COVER[(scale, budget, cloud)]
        stack = Stack(tf_root(shared_render(key, ANSWERS[key])) / cloud)
        return tuple(stack.tfvars[name] for name in SIZED[cloud])

    for cloud in derive.CLOUDS:
        by_scale = {sized(scale, "enterprise", cloud) for scale in derive.SCALES}
        assert len(by_scale) == 3, f"{cloud}: small, medium and large render the same sizes"
        by_budget = {sized("medium", budget, cloud) for budget in derive.BUDGETS}
        assert len(by_budget) == 3, f"{cloud}: startup, growth and enterprise render the same sizes"
