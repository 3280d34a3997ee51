"""infra/monitoring/: scrape configs, alert rules and the Grafana dashboard of every scenario.

The rules and the dashboard must watch what the service really exports: the metric names are
read from the rendered package's source (every prometheus_client Counter, Gauge, Histogram
and Summary it declares, with the sample suffixes each type exposes), and every PromQL
expression is parsed with promql-parser (the Rust parser Prometheus-compatible databases
use) to list the metrics it reads. Thresholds are compared with the derived profile, so an
SLA change in extensions/data moves the alerts with it.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import re
from functools import cache
from pathlib import Path
from typing import Any

import promql_parser
import pytest
import yaml
from conftest import REPO, SCENARIO_NAMES, RenderFn, load_scenario

# Metrics the rules read that the service does not export, with who exports them. Each must
# have its scrape job in prometheus-kubernetes.yml.
EXTERNAL_METRICS = {
    "up": "Prometheus itself, one series per scrape target",
    "container_cpu_usage_seconds_total": "cAdvisor, in the kubelet (job kubernetes-cadvisor)",
    "container_memory_working_set_bytes": "cAdvisor, in the kubelet (job kubernetes-cadvisor)",
    "kube_pod_container_resource_limits": "kube-state-metrics (job kube-state-metrics)",
}
EXTERNAL_JOBS = {"kubernetes-cadvisor", "kube-state-metrics"}
# What prometheus_client exposes for each metric type (counter names drop a `_total` suffix
# and expose it again; `_created` is exposed beside counters, histograms and summaries).
SAMPLE_SUFFIXES = {
    "Counter": ("_total", "_created"),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_sum", "_count", "_created"),
    "Summary": ("", "_sum", "_count", "_created"),
}
DURATION = re.compile(r"^\d+[smhd]$")
SEVERITIES = {"page", "ticket"}
# Every signal the issue asks for, by the alert that watches it.
EXPECTED_ALERTS = {
    "LatencyP95AboveTarget",
    "ErrorBudgetFastBurn",
    "ErrorBudgetSlowBurn",
    "CpuNearLimit",
    "MemoryNearLimit",
    "DatabasePoolNearlyExhausted",
    "OutboxDeliveryLagging",
    "JobQueueBacklog",
}


@cache
def _derive() -> Any:
    spec = importlib.util.spec_from_file_location(
        "prodkit_derive", REPO / "extensions" / "derive.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Project:
    def __init__(self, root: Path, answers: dict[str, Any]) -> None:
        self.root = root
        self.answers = answers
        self.slug = str(answers["project_slug"])
        self.name = self.slug.replace("_", "-")
        self.profile: dict[str, Any] = _derive().build_profile(dict(answers))
        self.monitoring = root / "infra" / "monitoring"

    def yaml(self, relative: str) -> Any:
        return yaml.safe_load((self.monitoring / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=SCENARIO_NAMES)
def project(request: pytest.FixtureRequest, shared_render: RenderFn) -> Project:
    answers = load_scenario(request.param)
    return Project(shared_render(f"suite-{request.param}", answers), answers)


# --------------------------------------------------------------------------- helpers


def exported_metrics(package: Path) -> set[str]:
    """Sample names the package's prometheus_client metrics expose on /metrics."""
    names: set[str] = set()
    for source in package.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            kind = getattr(node.func, "id", getattr(node.func, "attr", ""))
            first = node.args[0]
            if kind in SAMPLE_SUFFIXES and isinstance(first, ast.Constant):
                base = str(first.value)
                if kind == "Counter":
                    base = base.removesuffix("_total")
                names |= {base + suffix for suffix in SAMPLE_SUFFIXES[kind]}
    return names


def selectors(expr: str) -> list[promql_parser.VectorSelector]:
    found: list[promql_parser.VectorSelector] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            found.append(node)
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def matchers(selector: promql_parser.VectorSelector) -> dict[str, tuple[str, str]]:
    return {m.name: (str(m.op), m.value) for m in selector.matchers.matchers}


def scalar(node: Any) -> float:
    """The value of a constant PromQL expression (numbers, parentheses, + - * /)."""
    if isinstance(node, promql_parser.NumberLiteral):
        return float(node.val)
    if isinstance(node, promql_parser.ParenExpr):
        return scalar(node.expr)
    if isinstance(node, promql_parser.BinaryExpr):
        left, right, op = scalar(node.lhs), scalar(node.rhs), str(node.op)
        operations = {"+": left + right, "-": left - right, "*": left * right}
        if op == "/":
            return left / right
        return operations[op]
    raise AssertionError(f"not a constant expression: {node}")


def thresholds(expr: str) -> list[float]:
    """The right-hand constants of every `>` comparison in `expr`."""
    found: list[float] = []

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.BinaryExpr) and str(node.op) == ">":
            found.append(scalar(node.rhs))
        return True

    promql_parser.walk(promql_parser.parse(expr), visit)
    return found


def rules_by_alert(project: Project) -> dict[str, dict[str, Any]]:
    document = project.yaml("alerts.yml")
    return {rule["alert"]: rule for group in document["groups"] for rule in group["rules"]}


def dashboard_exprs(dashboard: dict[str, Any]) -> list[str]:
    return [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]


# --------------------------------------------------------------------------- tests


def test_the_parser_and_evaluator_catch_what_they_must() -> None:
    with pytest.raises(ValueError):
        promql_parser.parse("sum(rate(http_requests_total[5m])")
    (selector,) = selectors('rate(http_requests_total{job="a",status=~"5.."}[5m])')
    assert selector.name == "http_requests_total"
    assert matchers(selector)["status"][1] == "5.."
    assert thresholds("up > (14.4 * (1 - 99.95 / 100))") == [pytest.approx(0.0072)]


def test_exported_metrics_are_read_from_the_source(project: Project) -> None:
    exported = exported_metrics(project.root / "src" / project.slug)
    assert {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "outbox_backlog_events",
        "outbox_oldest_pending_age_seconds",
        "job_queue_backlog",
        "db_pool_connections_in_use",
        "db_pool_connections_limit",
    } <= exported, sorted(exported)
    assert "http_requests_total_total" not in exported


def test_alert_rules_are_well_formed(project: Project) -> None:
    document = project.yaml("alerts.yml")
    assert set(document) == {"groups"}
    group_names = [group["name"] for group in document["groups"]]
    assert len(group_names) == len(set(group_names))
    alerts: list[str] = []
    for group in document["groups"]:
        assert set(group) <= {"name", "interval", "rules", "limit"}, group["name"]
        assert group["rules"], group["name"]
        for rule in group["rules"]:
            assert set(rule) <= {"alert", "expr", "for", "labels", "annotations"}, rule
            assert re.fullmatch(r"[A-Z][A-Za-z0-9]+", rule["alert"]), rule["alert"]
            promql_parser.parse(rule["expr"])  # raises on a syntax error
            assert DURATION.match(rule["for"]), rule
            assert rule["labels"]["severity"] in SEVERITIES, rule
            assert rule["labels"]["service"] == project.slug, rule
            assert rule["annotations"]["summary"].strip(), rule
            assert rule["annotations"]["description"].strip(), rule
            assert "{%" not in json.dumps(rule) and "{{ profile" not in json.dumps(rule)
            alerts.append(rule["alert"])
    assert len(alerts) == len(set(alerts)), alerts
    assert EXPECTED_ALERTS <= set(alerts)


def test_rules_and_dashboard_read_only_metrics_that_exist(project: Project) -> None:
    exported = exported_metrics(project.root / "src" / project.slug)
    exprs = [rule["expr"] for rule in rules_by_alert(project).values()]
    exprs += dashboard_exprs(
        json.loads((project.monitoring / "grafana-dashboard.json").read_text())
    )
    unknown: set[str] = set()
    for expr in exprs:
        for selector in selectors(expr):
            name = selector.name
            assert name, f"selector without a metric name in {expr}"
            if name in EXTERNAL_METRICS:
                continue
            if name not in exported:
                unknown.add(name)
                continue
            # The service's own series are selected by their scrape job.
            assert matchers(selector).get("job") == ("MatchOp.Equal", project.slug), expr
    assert not unknown, f"rules or dashboard read metrics nobody exports: {sorted(unknown)}"


def test_thresholds_are_the_profiles(project: Project) -> None:
    sla = project.profile["sla"]
    sizing = project.profile["sizing"]
    rules = rules_by_alert(project)
    budget = 1 - float(sla["availability"]) / 100

    assert thresholds(rules["LatencyP95AboveTarget"]["expr"]) == [
        pytest.approx(sla["p95_latency_ms"] / 1000)
    ]
    assert "histogram_quantile(0.95," in rules["LatencyP95AboveTarget"]["expr"]
    assert thresholds(rules["ErrorBudgetFastBurn"]["expr"]) == [pytest.approx(14.4 * budget)] * 2
    assert thresholds(rules["ErrorBudgetSlowBurn"]["expr"]) == [pytest.approx(6 * budget)] * 2
    for alert in ("ErrorBudgetFastBurn", "ErrorBudgetSlowBurn"):
        statuses = {
            matchers(s).get("status") for s in selectors(rules[alert]["expr"]) if matchers(s)
        }
        assert ("MatchOp.Re", "5..") in statuses, alert
    assert thresholds(rules["JobQueueBacklog"]["expr"]) == [
        sizing["worker"]["max_replicas"] * sizing["worker"]["concurrency"]
    ]
    for alert in ("CpuNearLimit", "MemoryNearLimit", "DatabasePoolNearlyExhausted"):
        assert thresholds(rules[alert]["expr"]) == [0.9], alert

    dashboard = json.loads((project.monitoring / "grafana-dashboard.json").read_text())
    lines = {
        panel["title"]: panel["fieldConfig"]["defaults"]["thresholds"]["steps"][-1]["value"]
        for panel in dashboard["panels"]
    }
    latency = next(t for t in lines if t.startswith("p95 latency"))
    assert lines[latency] == pytest.approx(sla["p95_latency_ms"] / 1000)
    errors = next(t for t in lines if t.startswith("Server errors"))
    assert lines[errors] == pytest.approx(budget)


def test_dashboard_is_a_grafana_dashboard(project: Project) -> None:
    dashboard = json.loads((project.monitoring / "grafana-dashboard.json").read_text())
    assert dashboard["title"].startswith(project.answers["project_name"])
    assert dashboard["uid"] and len(dashboard["uid"]) <= 40
    assert isinstance(dashboard["schemaVersion"], int)
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    for panel in dashboard["panels"]:
        assert panel["targets"] and panel["datasource"]["uid"] == "${datasource}", panel["title"]
        refs = [target["refId"] for target in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]
        for target in panel["targets"]:
            promql_parser.parse(target["expr"])
    read = {s.name for expr in dashboard_exprs(dashboard) for s in selectors(expr)}
    assert {
        "http_requests_total",
        "http_request_duration_seconds_bucket",
        "db_pool_connections_in_use",
        "outbox_oldest_pending_age_seconds",
        "job_queue_backlog",
        "container_cpu_usage_seconds_total",
    } <= read


def test_scrape_configs_find_the_service(project: Project) -> None:
    for config_name in ("prometheus.yml", "prometheus-kubernetes.yml"):
        config = project.yaml(config_name)
        for rule_file in config["rule_files"]:
            assert (project.monitoring / rule_file).is_file(), (config_name, rule_file)
        jobs = {job["job_name"]: job for job in config["scrape_configs"]}
        assert jobs[project.slug]["metrics_path"] == "/metrics", config_name

    static = project.yaml("prometheus.yml")["scrape_configs"][0]
    compose = yaml.safe_load((project.root / "compose.yaml").read_text(encoding="utf-8"))
    ports = compose["services"]["app"]["ports"]
    for target in static["static_configs"][0]["targets"]:
        host, _, port = target.partition(":")
        assert host in compose["services"] and any(str(p).endswith(f":{port}") for p in ports)

    kubernetes = project.yaml("prometheus-kubernetes.yml")
    jobs = {job["job_name"]: job for job in kubernetes["scrape_configs"]}
    assert EXTERNAL_JOBS <= set(jobs)
    service = jobs[project.slug]
    assert service["kubernetes_sd_configs"] == [{"role": "pod"}]
    keep = next(
        r
        for r in service["relabel_configs"]
        if r.get("action") == "keep" and "app_kubernetes_io_name" in str(r["source_labels"])
    )
    web = yaml.safe_load(
        (project.root / "infra" / "k8s" / "base" / "web.yaml").read_text(encoding="utf-8")
    )
    template = web["spec"]["template"]["metadata"]
    labels = template["labels"]
    # Prometheus exposes pod label `app.kubernetes.io/name` as ..._label_app_kubernetes_io_name.
    meta = {
        "__meta_kubernetes_pod_label_" + re.sub(r"[^A-Za-z0-9_]", "_", key): value
        for key, value in labels.items()
    }
    values = ";".join(meta[source] for source in keep["source_labels"])
    assert re.fullmatch(keep["regex"], values), (keep, labels)
    annotations = template["annotations"]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    container_ports = {
        p["containerPort"] for p in web["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    assert int(annotations["prometheus.io/port"]) in container_ports
