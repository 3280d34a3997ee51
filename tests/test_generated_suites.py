"""Each reference scenario's generated project passes its own checks: ruff, strict mypy and
its test suite (with coverage of at least 90%), both embedded (SQLite, in-process pub/sub and
queue) and on PostgreSQL and Redis.

PostgreSQL and Redis come from PRODKIT_TEST_DATABASE_URL / PRODKIT_TEST_REDIS_URL, or the
local defaults below. Without them the PostgreSQL run is skipped, except in CI (CI=true),
where it fails instead.
"""

from __future__ import annotations

import os
import socket
import tomllib
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import (
    SCENARIO_NAMES,
    RenderFn,
    coverage_total,
    file_lock,
    load_scenario,
    run,
    uv,
)

pytestmark = pytest.mark.slow

DEFAULT_DATABASE_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
MIN_COVERAGE = 90.0
SUITE_TIMEOUT = 1800


def in_ci() -> bool:
    return os.environ.get("CI", "").strip().lower() in {"1", "true", "yes"}


def reachable(url: str, default_port: int) -> str | None:
    """None if a TCP connection to the URL's host and port succeeds, else why not."""
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or default_port
    try:
        with socket.create_connection((host, port), timeout=3):
            return None
    except OSError as error:
        return f"{host}:{port} ({error})"


@pytest.fixture(scope="module", params=SCENARIO_NAMES)
def scenario(
    request: pytest.FixtureRequest,
    shared_render: RenderFn,
    uv_sync: Callable[[Path], dict[str, str]],
) -> tuple[Path, dict[str, str]]:
    """(project dir, environment for its tools) of one scenario, rendered and synced once."""
    name: str = request.param
    project = shared_render(f"suite-{name}", load_scenario(name))
    return project, uv_sync(project)


def test_ruff(scenario: tuple[Path, dict[str, str]]) -> None:
    project, env = scenario
    run([uv(), "run", "--frozen", "ruff", "check", "."], cwd=project, env=env)
    run([uv(), "run", "--frozen", "ruff", "format", "--check", "."], cwd=project, env=env)


def test_mypy_strict(scenario: tuple[Path, dict[str, str]], mypy_cache_dir: Path) -> None:
    project, env = scenario
    config = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    assert config.get("tool", {}).get("mypy", {}).get("strict") is True, (
        "the generated project must configure mypy strict mode in pyproject.toml"
    )
    # The project's own configuration; only the cache is shared (see conftest).
    run([uv(), "run", "--frozen", "mypy", "--cache-dir", str(mypy_cache_dir)], cwd=project, env=env)


def run_suite(project: Path, env: dict[str, str], shared_root: Path, **urls: str | None) -> str:
    """Run the project's own pytest (its config holds the coverage threshold)."""
    suite_env = dict(env)
    for key, value in urls.items():
        if value is None:
            suite_env.pop(key, None)
        else:
            suite_env[key] = value
    # One suite at a time per project: runs share its SQLite files and coverage data.
    with file_lock(shared_root / "locks" / f"pytest-{project.name}.lock"):
        result = run(
            [uv(), "run", "--frozen", "pytest"],
            cwd=project,
            env=suite_env,
            timeout=SUITE_TIMEOUT,
        )
    output = result.stdout + result.stderr
    total = coverage_total(output)
    assert total is not None, (
        "the generated suite printed no coverage TOTAL line (pytest-cov with a terminal "
        f"report is expected in its config)\n{output[-3000:]}"
    )
    assert total >= MIN_COVERAGE, f"coverage {total}% < {MIN_COVERAGE}%\n{output[-3000:]}"
    return output


def test_suite_embedded(scenario: tuple[Path, dict[str, str]], shared_root: Path) -> None:
    """Nothing but Python: SQLite and in-process pub/sub and queue."""
    project, env = scenario
    run_suite(project, env, shared_root, DATABASE_URL=None, REDIS_URL=None)


def test_suite_postgres_redis(scenario: tuple[Path, dict[str, str]], shared_root: Path) -> None:
    """The same suite against PostgreSQL and Redis."""
    project, env = scenario
    database_url = os.environ.get("PRODKIT_TEST_DATABASE_URL") or DEFAULT_DATABASE_URL
    redis_url = os.environ.get("PRODKIT_TEST_REDIS_URL") or DEFAULT_REDIS_URL
    problems = [
        f"{what} not reachable at {why}"
        for what, why in (
            ("PostgreSQL", reachable(database_url, 5432)),
            ("Redis", reachable(redis_url, 6379)),
        )
        if why
    ]
    if problems:
        message = "; ".join(problems) + (
            " (set PRODKIT_TEST_DATABASE_URL / PRODKIT_TEST_REDIS_URL)"
        )
        if in_ci():
            pytest.fail(f"CI must run the PostgreSQL/Redis suite: {message}", pytrace=False)
        pytest.skip(message)
    # Suites of different scenarios share the database and the Redis server: one at a time.
    with file_lock(shared_root / "locks" / "external-services.lock"):
        run_suite(project, env, shared_root, DATABASE_URL=database_url, REDIS_URL=redis_url)
