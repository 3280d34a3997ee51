"""Shared helpers for the template's tests.

- `REPO`: the template repository (override with PRODKIT_REPO to test another checkout).
- `render()`: one `copier copy` through copier's Python API.
- `load_scenario()`: the answers of scenarios/<name>.yml.
- `run()`: a subprocess whose output is shown when it fails.
- `shared_render` / `uv_sync` fixtures: render a project once per test session, even across
  pytest-xdist workers, and prepare its own virtual environment with `uv sync --frozen`.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(os.environ.get("PRODKIT_REPO") or Path(__file__).resolve().parents[1]).resolve()
SCENARIOS_DIR = REPO / "scenarios"
SCENARIO_NAMES = ("ecommerce", "saas", "devops")
PYTHON_VERSION = "3.11"

# Directories that tools create inside a rendered project; never part of what was rendered.
TOOL_DIRS = frozenset(
    {".venv", ".git", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__", "htmlcov"}
)

# Environment variables of this test run that must not leak into a generated project's tools:
# the template's own virtualenv, pytest/xdist/coverage plumbing and service URLs.
_LEAKY_PREFIXES = ("PYTEST_", "COV_CORE_", "COVERAGE_", "UV_PROJECT", "PYTHON")
_LEAKY_NAMES = frozenset(
    {"VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON", "UV_ACTIVE", "DATABASE_URL", "REDIS_URL"}
)
_KEEP_PYTHON_VARS = frozenset({"PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING"})


def load_scenario(name: str) -> dict[str, Any]:
    """The answers of one reference scenario (scenarios/<name>.yml)."""
    data = yaml.safe_load((SCENARIOS_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    assert isinstance(data, dict), f"scenarios/{name}.yml is not a mapping"
    return data


def render(
    dst: Path | str,
    data: Mapping[str, Any] | None = None,
    vcs_ref: str | None = None,
    src: Path | str | None = None,
) -> Path:
    """`copier copy` the template into `dst` with `data` (defaults for the rest)."""
    import copier
    from copier.errors import DirtyLocalWarning

    with warnings.catch_warnings():
        # Rendering an uncommitted working tree is what these tests do on purpose.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        warnings.filterwarnings("ignore", message="No git tags found in template")
        copier.run_copy(
            src_path=str(src or REPO),
            dst_path=str(dst),
            data=dict(data or {}),
            defaults=True,
            unsafe=True,
            quiet=True,
            vcs_ref=vcs_ref,
        )
    return Path(dst)


def project_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """Environment for running a generated project's tools (uv, ruff, mypy, pytest).

    The test run's own virtualenv and pytest plumbing are removed; uv is told to use the
    local Python 3.11 and never download an interpreter. UV_CACHE_DIR is passed through
    (uv's default cache is shared by every project otherwise). A None value in `extra`
    removes that variable.
    """
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _LEAKY_NAMES and (k in _KEEP_PYTHON_VARS or not k.startswith(_LEAKY_PREFIXES))
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_PYTHON"] = PYTHON_VERSION
    env["UV_NO_PROGRESS"] = "1"
    env.setdefault("NO_COLOR", "1")
    for key, value in (extra or {}).items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def run(
    cmd: Sequence[str | os.PathLike[str]],
    cwd: Path | str,
    env: Mapping[str, str] | None = None,
    timeout: float = 900,
    check: bool = True,
    input: str | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `cmd` in `cwd`, capturing stdout and stderr; fail the test with both on error."""
    argv = [str(c) for c in cmd]
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            input=input,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(
            f"`{' '.join(argv)}` in {cwd} timed out after {timeout}s\n"
            f"--- stdout ---\n{_text(exc.stdout)}\n--- stderr ---\n{_text(exc.stderr)}",
            pytrace=False,
        )
    if check and result.returncode != 0:
        pytest.fail(
            f"`{' '.join(argv)}` in {cwd} exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}",
            pytrace=False,
        )
    return result


def _text(value: str | bytes | None) -> str:
    if value is None:
        return ""
    return value.decode(errors="replace") if isinstance(value, bytes) else value


def rendered_files(root: Path) -> list[str]:
    """Relative POSIX paths of the files under `root`, leaving out tool directories."""
    out = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in TOOL_DIRS)
        for name in filenames:
            if name.endswith((".pyc", ".pyo")):
                continue
            out.append((Path(dirpath) / name).relative_to(root).as_posix())
    return sorted(out)


def git_visible_files(root: Path) -> list[str]:
    """Files git would track in `root` (not ignored by the project's .gitignore)."""
    if not (root / ".git").exists():
        run(["git", "init", "-q"], cwd=root)
    out = run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"], cwd=root
    ).stdout
    return sorted(p for p in out.split("\0") if p)


def git_env() -> dict[str, str]:
    """A git identity for commits made by tests, whatever the machine's configuration."""
    env = dict(os.environ)
    env.update(
        GIT_AUTHOR_NAME="prodkit tests",
        GIT_AUTHOR_EMAIL="tests@example.com",
        GIT_COMMITTER_NAME="prodkit tests",
        GIT_COMMITTER_EMAIL="tests@example.com",
        GIT_CONFIG_NOSYSTEM="1",
    )
    return env


def git_commit_all(root: Path, message: str) -> None:
    env = git_env()
    if not (root / ".git").exists():
        run(["git", "init", "-q", "-b", "main"], cwd=root, env=env)
    run(["git", "add", "-A"], cwd=root, env=env)
    run(
        ["git", "-c", "commit.gpgsign=false", "commit", "-q", "--no-verify", "-m", message],
        cwd=root,
        env=env,
    )


def parse_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE pairs of a dotenv file (comments and blank lines skipped, quotes removed)."""
    values: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        stripped = stripped.removeprefix("export ")
        key, sep, value = stripped.partition("=")
        if not sep:
            continue
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        values[key.strip()] = value
    return values


def coverage_total(output: str) -> float | None:
    """The TOTAL percentage of a pytest-cov terminal report, or None if there is none."""
    matches = re.findall(r"^TOTAL\s.*?(\d+(?:\.\d+)?)%\s*$", output, flags=re.MULTILINE)
    return float(matches[-1]) if matches else None


def uv() -> str:
    found = shutil.which("uv")
    if not found:
        pytest.skip("uv is not on PATH")
    return found


# --------------------------------------------------------------------------------------
# Session-wide, xdist-safe caches
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """An exclusive lock shared by every pytest-xdist worker of this run."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


@pytest.fixture(scope="session")
def shared_root(tmp_path_factory: pytest.TempPathFactory, worker_id: str) -> Path:
    """A directory shared by all xdist workers of this run (the workers' common parent)."""
    base = tmp_path_factory.getbasetemp()
    root = (base.parent if worker_id != "master" else base) / "prodkit-shared"
    root.mkdir(parents=True, exist_ok=True)
    return root


@pytest.fixture(scope="session")
def worker_id(request: pytest.FixtureRequest) -> str:
    """pytest-xdist's worker id ("gw0", ...), or "master" without xdist."""
    workerinput = getattr(request.config, "workerinput", None)
    return str(workerinput["workerid"]) if workerinput else "master"


RenderFn = Callable[[str, Mapping[str, Any]], Path]


@pytest.fixture(scope="session")
def shared_render(shared_root: Path) -> RenderFn:
    """Render `data` under the name `key` once per test run and return the project dir.

    The list of rendered files is kept next to the project (`<key>.files.json`), so checks
    of what copier wrote are not confused by the venvs and caches that tools add later.
    """

    def _render(key: str, data: Mapping[str, Any]) -> Path:
        dst = shared_root / "projects" / key
        done = shared_root / "projects" / f"{key}.files.json"
        with file_lock(shared_root / "locks" / f"render-{key}.lock"):
            if not done.exists():
                if dst.exists():
                    shutil.rmtree(dst)
                render(dst, data)
                done.write_text(json.dumps(rendered_files(dst)), encoding="utf-8")
        return dst

    return _render


def files_as_rendered(project: Path) -> list[str]:
    """The files copier wrote into a project made by `shared_render`."""
    manifest = project.parent / f"{project.name}.files.json"
    return list(json.loads(manifest.read_text(encoding="utf-8")))


@pytest.fixture(scope="session")
def uv_sync(shared_root: Path) -> Callable[[Path], dict[str, str]]:
    """Prepare a rendered project's own venv with `uv sync --frozen`, once per project.

    Returns the environment to run the project's tools with (`uv run --frozen ...`).
    """
    uv_bin = uv()
    env = project_env()

    def _sync(project: Path) -> dict[str, str]:
        marker = project.parent / f"{project.name}.synced"
        with file_lock(shared_root / "locks" / f"sync-{project.name}.lock"):
            if not marker.exists():
                run([uv_bin, "sync", "--frozen", "--python", PYTHON_VERSION], cwd=project, env=env)
                marker.write_text("ok", encoding="utf-8")
        return dict(env)

    return _sync


@pytest.fixture(scope="session")
def mypy_cache_dir(shared_root: Path, worker_id: str) -> Path:
    """One mypy cache per xdist worker, shared by the projects that worker checks.

    Projects reuse the analysis of their (identical) third-party packages; mypy re-checks
    any module whose source hash differs, and no two processes ever write one cache.
    """
    return shared_root / f"mypy-cache-{worker_id}"
