"""The environment contract: every deploy target provides exactly the settings the service reads.

What the service reads is discovered, not listed: the rendered package is imported in its own
virtual environment, and every pydantic-settings `BaseSettings` subclass found in its modules
contributes its fields (as environment names, with their env_prefix or alias), plus any name
the code reads straight from os.environ. Each deploy target must then provide all of them,
and nothing else:

- compose.yaml: the app and worker services' `environment`, plus what their `env_file` (.env)
  provides: the rendered .env and the variables .env.example documents for it;
- Kubernetes: each pod template of the production overlay (web, worker, migration Job), through
  its ConfigMap (envFrom) and its Secret references (env);
- Terraform: each chosen cloud's `locals { app_env = {...}, app_secrets = {...} }`, the one map
  of plain settings and the one map of secrets that its container definitions pass on.

Settings typed SecretStr, and the URLs that carry credentials, must come from a secret store on
Kubernetes and Terraform, never from a ConfigMap or a plain variable. The plain values given
are also loaded through the service's own settings classes, so a value the service would
refuse at start-up fails here.
"""

from __future__ import annotations

import json
import re
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hcl2
import pytest
import yaml
from conftest import SCENARIO_NAMES, RenderFn, load_scenario, parse_env_file, run, uv
from test_kubernetes import by_kind, kustomize_build, profile_for

pytestmark = pytest.mark.slow  # imports each rendered project in its own synced environment

# What the issue requires every deploy target to set (a floor: discovery must find these).
DEPLOY_REQUIRED = {
    "APP_ENV",
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
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
DOMAIN_REQUIRED = {"ecommerce": {"STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"}}

# Read by the service, but no deploy target should set them.
NOT_FOR_DEPLOYMENT = {
    "PROMETHEUS_MULTIPROC_DIR": "`serve` makes a fresh directory per start for its processes' "
    "metric files; a fixed one would keep stale files across restarts",
    "STRIPE_API_BASE": "a test-only override of Stripe's API address (the generated tests point "
    "it at a local server that speaks Stripe's API); production talks to Stripe itself",
}
# Settings that carry credentials even though their type is a plain string.
CREDENTIAL_URLS = {"DATABASE_URL", "REDIS_URL"}
# What compose may set besides the service's settings.
COMPOSE_ONLY = {
    "POSTGRES_PASSWORD": "the database container's password, interpolated into DATABASE_URL",
}

DISCOVER = textwrap.dedent(
    """
    import importlib, inspect, json, os, pkgutil, sys
    from pydantic_settings import BaseSettings

    package = sys.argv[1]
    root = importlib.import_module(package)
    classes = {}
    for info in pkgutil.walk_packages(root.__path__, package + "."):
        # Alembic's scripts run only inside Alembic, and __main__ runs the command line.
        if info.name.startswith(package + ".migrations") or info.name.endswith(".__main__"):
            continue
        module = importlib.import_module(info.name)
        for _, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseSettings) and obj.__module__.startswith(package + "."):
                classes[obj.__module__ + "." + obj.__qualname__] = obj

    def names(cls):
        config = cls.model_config
        prefix = config.get("env_prefix", "")
        out = {}
        for field_name, field in cls.model_fields.items():
            alias = field.validation_alias or field.alias
            env = alias if isinstance(alias, str) else prefix + field_name
            env = env if config.get("case_sensitive") else env.upper()
            out[env] = {"secret": "SecretStr" in repr(field.annotation)}
        return out

    # Load each target's plain values through every settings class.
    errors = {}
    targets = json.loads(sys.stdin.read() or "{}")
    placeholders = {
        "SECRET_KEY": "s" * 48,
        "DATABASE_URL": "postgresql+asyncpg://user:password@db.internal:5432/app",
        "REDIS_URL": "redis://cache.internal:6379/0",
    }
    for target, values in targets.items():
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update({**placeholders, **values})
            for name, cls in classes.items():
                try:
                    cls(_env_file=None)
                except Exception as error:
                    errors.setdefault(target, []).append(name + ": " + str(error))
        finally:
            os.environ.clear()
            os.environ.update(saved)

    print(json.dumps({
        "classes": {name: names(cls) for name, cls in classes.items()},
        "errors": errors,
    }))
    """
)


# os.environ only: a bare `environ` is often a WSGI/ASGI request environ (HTTP_* headers).
DIRECT_READ = re.compile(
    r"""os\.(?:environ\.get|getenv|environ\.setdefault|environ\.pop)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
    r"""|os\.environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
)


def read_directly(package: Path) -> set[str]:
    """Names the package's code reads from os.environ itself, outside the settings classes."""
    return {
        match.group(1) or match.group(2)
        for source in package.rglob("*.py")
        for match in DIRECT_READ.finditer(source.read_text(encoding="utf-8"))
    }


class Contract:
    """What one rendered project's service reads, found by importing it."""

    def __init__(
        self, package: Path, discover: Callable[[dict[str, dict[str, str]]], dict[str, Any]]
    ) -> None:
        self._discover = discover
        found = discover({})
        self.classes: dict[str, dict[str, dict[str, bool]]] = found["classes"]
        self.fields = {name for fields in self.classes.values() for name in fields}
        self.read = self.fields | read_directly(package)
        self.secret = {
            name for fields in self.classes.values() for name, f in fields.items() if f["secret"]
        } | (CREDENTIAL_URLS & self.fields)
        self.required = self.read - set(NOT_FOR_DEPLOYMENT)

    def refused(self, targets: dict[str, dict[str, str]]) -> dict[str, list[str]]:
        """Per target, the settings classes that refuse its plain values."""
        errors: dict[str, list[str]] = self._discover(targets)["errors"]
        return errors


@pytest.fixture(scope="module", params=SCENARIO_NAMES)
def scenario(
    request: pytest.FixtureRequest,
    shared_render: RenderFn,
    uv_sync: Callable[[Path], dict[str, str]],
) -> tuple[Path, dict[str, Any], Contract]:
    """A scenario rendered and synced once per session; its settings discovered once here."""
    answers = load_scenario(request.param)
    project = shared_render(f"suite-{request.param}", answers)
    env = uv_sync(project)
    env["SECRET_KEY"] = "x" * 48  # Settings() runs at import time in the job module

    def discover(targets: dict[str, dict[str, str]]) -> dict[str, Any]:
        result = run(
            [uv(), "run", "--frozen", "python", "-c", DISCOVER, str(answers["project_slug"])],
            cwd=project,
            env=env,
            input=json.dumps(targets),
            timeout=300,
        )
        found: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
        return found

    return project, answers, Contract(project / "src" / answers["project_slug"], discover)


def check(
    target: str, provided: set[str], contract: Contract, allowed_extra: set[str] | None = None
) -> list[str]:
    problems = []
    missing = contract.required - provided
    if missing:
        problems.append(f"{target} does not provide {sorted(missing)}")
    unread = provided - contract.read - (allowed_extra or set())
    if unread:
        problems.append(f"{target} provides {sorted(unread)}, which the service never reads")
    return problems


# --------------------------------------------------------------------------- discovery


def test_discovery_finds_every_settings_class_and_what_deployments_need(
    scenario: tuple[Path, dict[str, Any], Contract],
) -> None:
    project, answers, contract = scenario
    slug = answers["project_slug"]
    assert f"{slug}.core.config.Settings" in contract.classes, contract.classes
    needed = DEPLOY_REQUIRED | DOMAIN_REQUIRED.get(answers["business_domain"], set())
    assert needed <= contract.required, sorted(needed - contract.required)
    assert "SECRET_KEY" in contract.secret
    assert {"PROMETHEUS_MULTIPROC_DIR"} <= contract.read
    # Every settings class in the source was found by importing (none hides in a module that
    # was skipped): compare with a plain text search.
    declared = {
        match.group(1)
        for source in (project / "src" / slug).rglob("*.py")
        if "/migrations/" not in source.as_posix()
        for match in re.finditer(r"^class (\w+)\(BaseSettings\)", source.read_text(), re.MULTILINE)
    }
    assert declared == {name.rsplit(".", 1)[1] for name in contract.classes}


# --------------------------------------------------------------------------- compose


def test_compose_provides_the_contract(scenario: tuple[Path, dict[str, Any], Contract]) -> None:
    project, _, contract = scenario
    compose = yaml.safe_load((project / "compose.yaml").read_text(encoding="utf-8"))
    documented = set(parse_env_file(project / ".env.example"))
    rendered_env = set(parse_env_file(project / ".env"))
    unread = documented - contract.read - set(COMPOSE_ONLY)
    assert not unread, f".env.example documents variables the service never reads: {unread}"
    assert rendered_env <= documented, ".env has variables .env.example does not document"

    problems = []
    for name in ("app", "worker"):
        service = compose["services"][name]
        env_files = service.get("env_file") or []
        env_files = [env_files] if isinstance(env_files, (str, dict)) else env_files
        paths = [f if isinstance(f, str) else f["path"] for f in env_files]
        assert paths == [".env"], f"{name}: env_file {paths}"
        values = {k: str(v) for k, v in (service.get("environment") or {}).items()}
        environment = set(values)
        unread_env = environment - contract.read
        assert not unread_env, f"{name} sets {sorted(unread_env)}, which the service never reads"
        # A secret may only be passed through from .env or the shell, never written here.
        written = {
            key
            for key in environment & contract.secret - CREDENTIAL_URLS
            if not re.fullmatch(rf"\$\{{{key}(:?-)?\}}", values[key])
        }
        assert not written, f"{name}: {sorted(written)} belong in .env, not compose.yaml"
        provided = environment | documented | rendered_env
        problems += check(f"compose {name}", provided, contract, set(COMPOSE_ONLY))
    assert not problems, "\n".join(problems)


# --------------------------------------------------------------------------- Kubernetes


def pod_environment(
    template: dict[str, Any], config_maps: dict[str, dict[str, Any]]
) -> tuple[dict[str, str], set[str]]:
    """(plain values, names from Secrets) that a pod template's one container receives."""
    (container,) = template["spec"]["containers"]
    plain: dict[str, str] = {}
    secret: set[str] = set()
    for source in container.get("envFrom", []):
        assert set(source) == {"configMapRef"}, f"only ConfigMaps in envFrom: {source}"
        plain.update(config_maps[source["configMapRef"]["name"]]["data"])
    for variable in container.get("env", []):
        if "value" in variable:
            plain[variable["name"]] = variable["value"]
        else:
            reference = variable["valueFrom"]["secretKeyRef"]
            assert reference["key"] == variable["name"], variable
            secret.add(variable["name"])
    return plain, secret


def test_kubernetes_provides_the_contract(
    scenario: tuple[Path, dict[str, Any], Contract],
) -> None:
    project, _, contract = scenario
    documents = kustomize_build(project / "infra" / "k8s" / "overlays" / "production")
    config_maps = by_kind(documents, "ConfigMap")
    workloads = {**by_kind(documents, "Deployment"), **by_kind(documents, "Job")}
    assert len(workloads) == 3, sorted(workloads)
    problems = []
    values: dict[str, dict[str, str]] = {}
    for name, workload in workloads.items():
        plain, secret = pod_environment(workload["spec"]["template"], config_maps)
        problems += check(f"Kubernetes {name}", set(plain) | secret, contract)
        in_plain = contract.secret & set(plain)
        if in_plain:
            problems.append(f"Kubernetes {name}: {sorted(in_plain)} must come from a Secret")
        values[f"Kubernetes {name}"] = plain
    assert not problems, "\n".join(problems)
    assert contract.refused(values) == {}


# --------------------------------------------------------------------------- Terraform


def _unquote(value: Any) -> Any:
    if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] == '"':
        return value[1:-1]
    return value


def terraform_locals(folder: Path) -> dict[str, Any]:
    merged: dict[str, Any] = {}
    for path in sorted(folder.glob("*.tf")):
        with path.open(encoding="utf-8") as handle:
            document = hcl2.load(handle)
        for block in document.get("locals", []):
            merged.update(block)
    return merged


def test_terraform_provides_the_contract(
    scenario: tuple[Path, dict[str, Any], Contract],
) -> None:
    project, answers, contract = scenario
    clouds = _clouds(answers)
    absent = [c for c in clouds if not (project / "infra" / "terraform" / c).is_dir()]
    present = [c for c in clouds if c not in absent]
    if not present:
        pytest.skip(f"no Terraform rendered yet for {absent} (infra/terraform/<cloud> absent)")
    problems = []
    values: dict[str, dict[str, str]] = {}
    for cloud in present:
        local = terraform_locals(project / "infra" / "terraform" / cloud)
        if "app_env" not in local or "app_secrets" not in local:
            problems.append(
                f"terraform/{cloud}: expected `locals {{ app_env = {{...}} app_secrets = {{...}} }}`"
            )
            continue
        plain = {_unquote(k): _unquote(v) for k, v in local["app_env"].items()}
        secrets = {_unquote(k) for k in local["app_secrets"]}
        problems += check(f"terraform/{cloud}", set(plain) | secrets, contract)
        in_plain = contract.secret & set(plain)
        if in_plain:
            problems.append(f"terraform/{cloud}: {sorted(in_plain)} must come from app_secrets")
        both = set(plain) & secrets
        if both:
            problems.append(f"terraform/{cloud}: {sorted(both)} both plain and secret")
        # Values computed by Terraform (`${...}`) are known only at apply time.
        values[f"terraform/{cloud}"] = {
            k: str(v) for k, v in plain.items() if isinstance(v, str) and "${" not in v
        }
    assert not problems, "\n".join(problems)
    assert contract.refused(values) == {}
    if absent:
        pytest.skip(f"Terraform checked for {present}; not rendered for {absent}")


def _clouds(answers: dict[str, Any]) -> list[str]:
    clouds: list[str] = profile_for(answers)["clouds"]
    return clouds


# --------------------------------------------------------------------------- self-check


def test_check_reports_missing_and_unread_settings() -> None:
    class Fixed(Contract):
        def __init__(self) -> None:
            self.read = {"A", "B", "PROMETHEUS_MULTIPROC_DIR"}
            self.required = {"A", "B"}

    problems = check("target", {"A", "C"}, Fixed())
    assert problems == [
        "target does not provide ['B']",
        "target provides ['C'], which the service never reads",
    ]
    assert check("target", {"A", "B", "C"}, Fixed(), {"C"}) == []
