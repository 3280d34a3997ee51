"""Foundation benchmark: render time per scenario and HTTP throughput of the generated service.

Run from the repository root:

    uv run python bench/foundation.py

What it does, in one run (about 2-3 minutes on 2 cores):

1. Renders every scenarios/*.yml with copier's Python API, 3 times each, and records the median
   wall time per scenario.
2. Takes the e-commerce render, `uv sync --frozen`s it, creates a throwaway PostgreSQL database,
   runs `<slug> migrate`, and starts `<slug> serve --workers 2` with the production settings
   (PostgreSQL, Redis, APP_ENV=production, LOG_LEVEL=WARNING) and rate limits raised so that
   the load generator is not throttled. Registers a user and logs in for an access token.
3. Loads with wrk (`-t2 -c64 -d15s --latency`, after a 5 s warm-up run) on 127.0.0.1:
   GET /health/live and GET /api/v1/users/me (authenticated).
4. Measures the ceiling in the same run: a raw ASGI hello-world served by uvicorn from the
   generated project's venv with the same server settings (2 workers, httptools, uvloop, no
   access log); each figure is reported as a ratio to it.
5. Writes bench/results/foundation-<UTC date>-<short commit>.json and appends a block to
   bench/RESULTS.md. Figures are recorded, not asserted.

Needs: uv, wrk (`apt-get install -y wrk`), PostgreSQL at 127.0.0.1:5432 (user postgres, trust
auth) and Redis at 127.0.0.1:6379. All traffic stays on 127.0.0.1. Servers, the database and
the Redis keys it made are removed at the end, also on failure.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import json
import os
import platform
import re
import resource
import secrets
import shutil
import signal
import socket
import statistics
import string
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import yaml

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "bench"
RESULTS_DIR = BENCH / "results"
RESULTS_MD = BENCH / "RESULTS.md"
SCENARIOS_DIR = REPO / "scenarios"

HOST = "127.0.0.1"  # the only address this benchmark sends traffic to
PG_SERVER = f"postgresql://postgres@{HOST}:5432"
REDIS_URL = f"redis://{HOST}:6379/0"
LOAD_SCENARIO = "ecommerce"
WORKERS = 2
WRK_THREADS = 2
WRK_CONNECTIONS = 64
RAISED_LIMIT = "10000000/minute"
BUSY_THRESHOLD = 0.10  # share of CPU used by others before loading that marks a run as disturbed

# Variables of the calling environment that must not leak into the generated project's tools
# (this repository's own venv, uv's project selection, service URLs).
_LEAKY_NAMES = frozenset(
    {"VIRTUAL_ENV", "CONDA_PREFIX", "UV_PYTHON", "UV_ACTIVE", "DATABASE_URL", "REDIS_URL"}
)
_LEAKY_PREFIXES = ("UV_PROJECT", "PYTHON", "PYTEST_")
_KEEP_PYTHON_VARS = frozenset({"PYTHONHASHSEED", "PYTHONUTF8", "PYTHONIOENCODING"})

HELLO_ASGI = '''\
"""Ceiling: the least an ASGI server can do per request."""


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"text/plain"), (b"content-length", b"5")],
        }
    )
    await send({"type": "http.response.body", "body": b"hello"})
'''


class BenchError(RuntimeError):
    """A step failed; the message says which and shows the relevant output."""


def log(message: str) -> None:
    print(f"[foundation {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- helpers


def project_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in _LEAKY_NAMES and (k in _KEEP_PYTHON_VARS or not k.startswith(_LEAKY_PREFIXES))
    }
    env["UV_PYTHON_DOWNLOADS"] = "never"
    env["UV_NO_PROGRESS"] = "1"
    env.setdefault("NO_COLOR", "1")
    env.update(extra or {})
    return env


def run(
    cmd: Sequence[str | os.PathLike[str]],
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 300,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    argv = [str(c) for c in cmd]
    try:
        result = subprocess.run(
            argv,
            cwd=cwd,
            env=dict(env) if env is not None else None,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"`{' '.join(argv)}` timed out after {timeout}s") from exc
    if check and result.returncode != 0:
        raise BenchError(
            f"`{' '.join(argv)}` exited with {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-4000:]}\n--- stderr ---\n{result.stderr[-4000:]}"
        )
    return result


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def random_text(n: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(secrets.choice(alphabet) for _ in range(n))


def http_json(
    method: str, url: str, body: Mapping[str, Any] | None = None, token: str | None = None
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            raw = response.read()
            status = response.status
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        status = exc.code
    try:
        return status, json.loads(raw) if raw else None
    except ValueError:
        return status, raw.decode(errors="replace")


# --------------------------------------------------------------------------- rendering


def load_scenarios() -> dict[str, dict[str, Any]]:
    scenarios = {}
    for path in sorted(SCENARIOS_DIR.glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise BenchError(f"{path} is not a mapping of answers")
        scenarios[path.stem] = data
    if LOAD_SCENARIO not in scenarios:
        raise BenchError(f"scenarios/{LOAD_SCENARIO}.yml is missing")
    return scenarios


def render(dst: Path, data: Mapping[str, Any]) -> float:
    import copier
    from copier.errors import DirtyLocalWarning

    with warnings.catch_warnings():
        # The benchmark renders the working tree as it is, committed or not.
        warnings.simplefilter("ignore", DirtyLocalWarning)
        warnings.filterwarnings("ignore", message="No git tags found in template")
        start = time.perf_counter()
        # copier prints "No git tags found..." to stderr on an untagged checkout: not news here.
        with contextlib.redirect_stderr(io.StringIO()):
            copier.run_copy(
                str(REPO), str(dst), data=dict(data), defaults=True, unsafe=True, quiet=True
            )
        return time.perf_counter() - start


def render_all(
    scenarios: Mapping[str, Mapping[str, Any]], workdir: Path, repeats: int
) -> tuple[dict[str, dict[str, Any]], Path]:
    import copier  # noqa: F401  (imported once before timing, so no render pays for it)

    results: dict[str, dict[str, Any]] = {}
    keep: Path | None = None
    for name, data in scenarios.items():
        times = []
        for i in range(repeats):
            dst = workdir / f"render-{name}-{i}"
            times.append(render(dst, data))
            if name == LOAD_SCENARIO and i == repeats - 1:
                keep = dst
            else:
                shutil.rmtree(dst, ignore_errors=True)
        results[name] = {
            "median": round(statistics.median(times), 3),
            "runs": [round(t, 3) for t in times],
        }
        log(
            f"render {name}: median {statistics.median(times):.2f} s ({', '.join(f'{t:.2f}' for t in times)})"
        )
    assert keep is not None
    return results, keep


# --------------------------------------------------------------------------- processes


class Server:
    """A server in its own process group, output to a log file; stopped as a group."""

    def __init__(
        self, name: str, argv: Sequence[str], cwd: Path, env: Mapping[str, str], log_path: Path
    ):
        self.name = name
        self.log_path = log_path
        self._log = log_path.open("wb")
        self.proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output_tail(self, chars: int = 4000) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-chars:]

    def wait_ready(self, url: str, timeout: float, want: int = 200) -> None:
        deadline = time.monotonic() + timeout
        last = "no answer"
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BenchError(
                    f"{self.name} exited with {self.proc.returncode} before {url} answered\n"
                    f"--- its output ---\n{self.output_tail()}"
                )
            try:
                status, body = http_json("GET", url)
                if status == want:
                    return
                last = f"{status} {body}"
            except (OSError, urllib.error.URLError) as exc:
                last = repr(exc)
            time.sleep(0.25)
        raise BenchError(
            f"{self.name}: {url} not ready after {timeout}s (last: {last})\n"
            f"--- its output ---\n{self.output_tail()}"
        )

    def stop(self) -> None:
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        # Workers left behind by a parent that died first are still in the group.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        self._log.close()


@contextlib.contextmanager
def serving(server: Server) -> Iterator[Server]:
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------- wrk

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def to_ms(value: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", value.strip())
    if not match:
        raise BenchError(f"unreadable wrk latency {value!r}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def parse_wrk(output: str) -> dict[str, Any]:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if not (rps and p50 and p99 and total):
        raise BenchError(f"could not read wrk's output:\n{output}")
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    sock = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    socket_errors = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sock.groups()))) if sock else {}
    )
    result = {
        "requests": int(total.group(1)),
        "req_per_s": round(float(rps.group(1)), 1),
        "p50_ms": round(to_ms(p50.group(1)), 3),
        "p99_ms": round(to_ms(p99.group(1)), 3),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": socket_errors,
    }
    result["errors"] = result["non_2xx"] > 0 or any(socket_errors.values())
    return result


def wrk(url: str, seconds: int, headers: Sequence[str] = ()) -> str:
    if not url.startswith(f"http://{HOST}:"):
        raise BenchError(f"refusing to load {url}: only {HOST} is a target")
    argv = ["wrk", f"-t{WRK_THREADS}", f"-c{WRK_CONNECTIONS}", f"-d{seconds}s", "--latency"]
    for header in headers:
        argv += ["-H", header]
    argv.append(url)
    return run(argv, timeout=seconds + 30).stdout


def load(
    name: str,
    url: str,
    warmup: int,
    duration: int,
    server: Server,
    headers: Sequence[str] = (),
) -> dict[str, Any]:
    if warmup > 0:
        wrk(url, warmup, headers)
    meter = CpuMeter(server.proc.pid)
    output = wrk(url, duration, headers)
    result = parse_wrk(output)
    result["cpu_shares"] = cpu = meter.shares()
    result["other_cpu_share"] = cpu["other"] if cpu else None
    if server.proc.poll() is not None:
        raise BenchError(f"{server.name} exited under load:\n{server.output_tail()}")
    state = "ERRORS" if result["errors"] else "ok"
    log(
        f"{name}: {result['req_per_s']:,.0f} req/s, p50 {result['p50_ms']:.2f} ms, "
        f"p99 {result['p99_ms']:.2f} ms, non-2xx {result['non_2xx']}, "
        f"socket errors {result['socket_errors'] or 0} [{state}]"
        + (
            f"; CPU: server {100 * cpu['server']:.0f}%, postgres+redis "
            f"{100 * cpu['postgres_redis']:.0f}%, wrk {100 * cpu['wrk']:.0f}%, "
            f"kernel threads {100 * cpu['kernel_threads']:.0f}%, "
            f"other {100 * cpu['other']:.0f}%"
            if cpu
            else ""
        )
    )
    return result


class CpuMeter:
    """Where the machine's CPU went while one wrk run measured, as shares of all cores' time.

    From /proc: total busy time (steal included), the server's session (its process group:
    launcher, master, workers), PostgreSQL and Redis (which serve the requests, and possibly
    other clients too), wrk (this process's waited children) and the kernel threads that finish
    network work (ksoftirqd, kworker). Interrupt time is charged to the process it interrupted,
    so it is inside those shares, not added to them. "other" is the rest:
    another engineer's test run shows up there; a quiet machine reads ~0.
    """

    SERVICES = ("postgres", "redis-server")
    KERNEL = ("ksoftirqd", "kworker")

    def __init__(self, server_sid: int) -> None:
        self.sid = server_sid
        self.tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self.start = self._sample()

    def _sample(self) -> tuple[int, int, int, int, int, float] | None:
        try:
            fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
            total, idle = sum(fields[:8]), fields[3] + fields[4]
            server = services = kernel = 0
            for stat in Path("/proc").glob("[0-9]*/stat"):
                with contextlib.suppress(OSError, ValueError, IndexError):
                    head, tail = stat.read_text().rsplit(")", 1)
                    comm, rest = head.split("(", 1)[1], tail.split()
                    ticks = int(rest[11]) + int(rest[12])
                    if int(rest[3]) == self.sid:
                        server += ticks
                    elif comm.startswith(self.SERVICES):
                        services += ticks
                    elif comm.startswith(self.KERNEL):
                        kernel += ticks
            usage = resource.getrusage(resource.RUSAGE_CHILDREN)
            return total, idle, kernel, server, services, usage.ru_utime + usage.ru_stime
        except (OSError, ValueError, IndexError):
            return None

    def shares(self) -> dict[str, float] | None:
        end = self._sample()
        if self.start is None or end is None or end[0] <= self.start[0]:
            return None
        total = end[0] - self.start[0]
        busy = total - (end[1] - self.start[1])
        kernel = end[2] - self.start[2]
        server = end[3] - self.start[3]
        services = end[4] - self.start[4]
        wrk_ticks = (end[5] - self.start[5]) * self.tick
        other = max(0.0, busy - kernel - server - services - wrk_ticks)
        return {
            "busy": round(busy / total, 3),
            "server": round(server / total, 3),
            "postgres_redis": round(services / total, 3),
            "wrk": round(wrk_ticks / total, 3),
            "kernel_threads": round(kernel / total, 3),
            "other": round(other / total, 3),
        }


# --------------------------------------------------------------------------- database, redis


def create_database(name: str, venv_python: Path) -> None:
    if shutil.which("createdb"):
        run(["createdb", "-h", HOST, "-p", "5432", "-U", "postgres", name], timeout=60)
    else:
        _asyncpg(venv_python, f'CREATE DATABASE "{name}"')


def drop_database(name: str, venv_python: Path) -> None:
    if shutil.which("dropdb"):
        run(
            ["dropdb", "-h", HOST, "-p", "5432", "-U", "postgres", "--if-exists", "--force", name],
            timeout=60,
        )
    else:
        _asyncpg(venv_python, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _asyncpg(venv_python: Path, sql: str) -> None:
    code = textwrap.dedent(
        f"""
        import asyncio, asyncpg
        async def main():
            conn = await asyncpg.connect({PG_SERVER + "/postgres"!r})
            try:
                await conn.execute({sql!r})
            finally:
                await conn.close()
        asyncio.run(main())
        """
    )
    run([venv_python, "-c", code], env=project_env(), timeout=60)


def delete_redis_keys(prefix: str, venv_python: Path) -> int:
    code = textwrap.dedent(
        f"""
        import redis
        r = redis.Redis.from_url({REDIS_URL!r})
        n = 0
        for key in r.scan_iter(match={prefix + "*"!r}, count=1000):
            n += r.delete(key)
        print(n)
        """
    )
    return int(run([venv_python, "-c", code], env=project_env(), timeout=60).stdout.strip() or 0)


# --------------------------------------------------------------------------- machine, git


def git(*args: str) -> str:
    return run(["git", *args], cwd=REPO, timeout=30).stdout.strip()


def commit_info() -> dict[str, Any]:
    return {
        "sha": git("rev-parse", "HEAD"),
        "short": git("rev-parse", "--short", "HEAD"),
        "dirty": bool(git("status", "--porcelain")),
    }


def machine_info(venv_python: Path) -> dict[str, Any]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_gib = None
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                mem_gib = round(int(line.split()[1]) / 1024 / 1024, 1)
    wrk_version = run(["wrk", "-v"], check=False).stdout.splitlines()
    service_python = run(
        [venv_python, "-c", "import platform; print(platform.python_version())"], check=False
    ).stdout.strip()
    return {
        "nproc": len(os.sched_getaffinity(0))
        if hasattr(os, "sched_getaffinity")
        else os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": mem_gib,
        "os": platform.platform(),
        "python": {"bench": platform.python_version(), "service": service_python},
        "uv": run(["uv", "--version"], check=False).stdout.strip(),
        "wrk": wrk_version[0].strip() if wrk_version else "unknown",
    }


def cpu_busy(seconds: float = 2.0) -> float | None:
    """Share of all cores busy over `seconds` (from /proc/stat): what else runs on the box."""

    def sample() -> tuple[int, int]:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    total = total1 - total0
    return round(1 - (idle1 - idle0) / total, 3) if total > 0 else None


def load_average() -> list[float] | None:
    with contextlib.suppress(OSError, AttributeError):
        return [round(v, 2) for v in os.getloadavg()]
    return None


# --------------------------------------------------------------------------- the service


def service_env(db_url: str, prefix: str) -> dict[str, str]:
    return project_env(
        {
            "DATABASE_URL": db_url,
            "REDIS_URL": REDIS_URL,
            "REDIS_PREFIX": prefix,
            "LOG_LEVEL": "WARNING",
            "APP_ENV": "production",
            "SECRET_KEY": random_text(48),
            "RATE_LIMIT_ANONYMOUS": RAISED_LIMIT,
            "RATE_LIMIT_AUTHENTICATED": RAISED_LIMIT,
            "RATE_LIMIT_LOGIN": RAISED_LIMIT,
        }
    )


def access_token(base: str) -> str:
    email = f"bench-{random_text(8).lower()}@example.com"
    password = random_text(24)
    status, body = http_json(
        "POST",
        f"{base}/api/v1/auth/register",
        {"email": email, "password": password, "full_name": "Bench User"},
    )
    if status != 201:
        raise BenchError(f"register answered {status}: {body}")
    status, body = http_json(
        "POST", f"{base}/api/v1/auth/login", {"email": email, "password": password}
    )
    if status != 200 or not isinstance(body, dict) or "access_token" not in body:
        raise BenchError(f"login answered {status}: {body}")
    status, me = http_json("GET", f"{base}/api/v1/users/me", token=body["access_token"])
    if status != 200:
        raise BenchError(f"/api/v1/users/me answered {status}: {me}")
    return str(body["access_token"])


# --------------------------------------------------------------------------- recording


def write_results(record: dict[str, Any]) -> Path:
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stem = f"foundation-{record['date'][:10]}-{record['commit']['short']}"
    path = RESULTS_DIR / f"{stem}.json"
    n = 2
    while path.exists():
        path = RESULTS_DIR / f"{stem}-{n}.json"
        n += 1
    path.write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    return path


RESULTS_HEADER = """\
# Foundation benchmark results

Run from the repository root (PostgreSQL at 127.0.0.1:5432 and Redis at 127.0.0.1:6379
running, `wrk` installed: `apt-get install -y wrk`):

    uv run python bench/foundation.py

What is measured, in one run:

- **render**: wall time of `copier.run_copy` for each scenario in `scenarios/`, median of 3.
- **HTTP**: the e-commerce project rendered from the working tree, on PostgreSQL and Redis,
  served by `<slug> serve --workers 2` (APP_ENV=production, LOG_LEVEL=WARNING, rate limits
  raised so wrk is not throttled); `wrk -t2 -c64 -d15s --latency` after a 5 s warm-up, on
  127.0.0.1, for `GET /health/live` and the authenticated `GET /api/v1/users/me`.
- **ceiling**: a raw ASGI hello-world served by uvicorn with the same server settings (2
  workers, httptools, uvloop, no access log) from the project's own venv, in the same run;
  "ratio" is each figure's req/s over the ceiling's.

The load generator shares the machine's cores with the server, so absolute figures move from
run to run and machine to machine: compare ratios, and compare with the figures in
`shared/REFERENCE-FIGURES.md` (bare ASGI on uvicorn 2 workers there: 41,932-46,521 req/s,
p99 5.4-6.0 ms; a popular full-stack FastAPI template: health 8,890 req/s, current user 613
req/s). Figures here are recorded, not asserted: nothing fails on a slow run. A row marked
ERRORS had non-2xx responses or socket errors and is not a valid throughput figure. "other
CPU" is the share of the machine's CPU used during that measurement by processes other than
the server, wrk, PostgreSQL and Redis (another test run, say); above 10% the block says the
machine was busy and its figures are low. Each run's full record is in
`results/foundation-<UTC date>-<commit>.json`.
"""


def results_block(record: Mapping[str, Any], json_path: Path) -> str:
    m = record["machine"]
    c = record["commit"]
    renders = record["settings"]["renders_per_scenario"]
    lines = [
        f"## {record['date']} - {c['short']}{' (dirty)' if c['dirty'] else ''}",
        "",
        (
            f"{m['nproc']} cores ({m['cpu_model']}), {m['memory_gib']} GiB; service Python "
            f"{m['python']['service']}, {m['uv']}, {m['wrk'].split(' [')[0]}; "
            f"{record['settings']['wrk']}, warm-up {record['settings']['warmup_s']} s. "
            f"Record: `{json_path.relative_to(BENCH).as_posix()}`."
        ),
        "",
        *_busy_note(record),
        f"| scenario | render (median of {renders}) |",
        "| --- | --- |",
    ]
    for name, r in record["render_seconds"].items():
        lines.append(f"| {name} | {r['median']:.2f} s |")
    lines += [
        "",
        "| target | req/s | p50 | p99 | non-2xx | socket errors | ratio to ceiling | other CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in record["http"].items():
        flag = " **ERRORS**" if r["errors"] else ""
        other = r.get("other_cpu_share")
        lines.append(
            f"| {name}{flag} | {r['req_per_s']:,.0f} | {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms "
            f"| {r['non_2xx']} | {_socket_errors(r.get('socket_errors') or {})} "
            f"| {r['ratio_to_ceiling']:.3f} "
            f"| {'n/a' if other is None else f'{100 * other:.0f}%'} |"
        )
    return "\n".join(lines) + "\n"


def _socket_errors(errors: Mapping[str, int]) -> str:
    found = [f"{n} {kind}" for kind, n in errors.items() if n]
    return ", ".join(found) if found else "0"


def _busy_note(record: Mapping[str, Any]) -> list[str]:
    background = record["machine"].get("background", {})
    shares = [
        r["other_cpu_share"]
        for r in record["http"].values()
        if r.get("other_cpu_share") is not None
    ]
    before = background.get("cpu_busy_before_load")
    parts = []
    if before is not None:
        parts.append(f"{100 * before:.0f}% of the CPU busy just before loading")
    if shares:
        parts.append(f"up to {100 * max(shares):.0f}% used by other processes during a run")
    if not parts:
        return []
    text = f"Other work on the machine: {', '.join(parts)}."
    if max([*shares, before or 0.0]) > BUSY_THRESHOLD:
        text += " **Machine busy: figures are low and ratios less reliable.**"
    return [text, ""]


def append_results_md(block: str) -> None:
    if not RESULTS_MD.exists():
        RESULTS_MD.write_text(RESULTS_HEADER, encoding="utf-8")
    with RESULTS_MD.open("a", encoding="utf-8") as fh:
        fh.write("\n" + block)


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run")
    cli.add_argument("--warmup", type=int, default=5, help="seconds of the warm-up wrk run")
    cli.add_argument("--renders", type=int, default=3, help="renders per scenario")
    cli.add_argument("--no-record", action="store_true", help="print figures, write nothing")
    args = cli.parse_args(argv)

    if not shutil.which("wrk"):
        print(
            "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or "
            "`brew install wrk` (macOS), then run this again.",
            file=sys.stderr,
        )
        return 2
    for tool in ("uv", "git"):
        if not shutil.which(tool):
            print(f"{tool} is not on PATH.", file=sys.stderr)
            return 2

    started = time.monotonic()
    date = dt.datetime.now(dt.UTC).replace(microsecond=0)
    commit = commit_info()
    token = secrets.token_hex(4)
    db_name = f"bench_{token}"
    prefix = f"bench-{token}"
    db_created = False
    venv_python: Path | None = None
    http: dict[str, dict[str, Any]] = {}
    background: dict[str, Any] = {}

    with tempfile.TemporaryDirectory(prefix="prodkit-bench-") as tmp:
        workdir = Path(tmp)
        try:
            scenarios = load_scenarios()
            log(f"rendering {len(scenarios)} scenarios x {args.renders}")
            render_seconds, project = render_all(scenarios, workdir, args.renders)
            slug = str(scenarios[LOAD_SCENARIO]["project_slug"])

            log(f"uv sync --frozen in the {LOAD_SCENARIO} project")
            run(["uv", "sync", "--frozen"], cwd=project, env=project_env(), timeout=600)
            venv_python = project / ".venv" / "bin" / "python"

            # Other work on the machine takes cores from server and wrk alike: note it.
            background = {"cpu_busy_before_load": cpu_busy(), "load_average": load_average()}
            log(
                f"before loading: CPU {100 * (background['cpu_busy_before_load'] or 0):.0f}% "
                f"busy with our servers down, load average {background['load_average']}"
            )
            # Ceiling first, alone on the machine.
            (workdir / "hello_asgi.py").write_text(HELLO_ASGI, encoding="utf-8")
            port = free_port()
            ceiling = Server(
                "ceiling (uvicorn hello)",
                [
                    str(venv_python),
                    "-m",
                    "uvicorn",
                    "hello_asgi:app",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--workers",
                    str(WORKERS),
                    "--http",
                    "httptools",
                    "--loop",
                    "uvloop",
                    "--no-access-log",
                    "--log-level",
                    "warning",
                ],
                cwd=workdir,
                env=project_env(),
                log_path=workdir / "ceiling.log",
            )
            with serving(ceiling):
                ceiling.wait_ready(f"http://{HOST}:{port}/", timeout=30)
                http["ceiling: bare ASGI, uvicorn"] = load(
                    "ceiling", f"http://{HOST}:{port}/", args.warmup, args.duration, ceiling
                )

            log(f"creating database {db_name}, migrating")
            create_database(db_name, venv_python)
            db_created = True
            db_url = f"postgresql+asyncpg://postgres@{HOST}:5432/{db_name}"
            env = service_env(db_url, prefix)
            run(["uv", "run", "--frozen", slug, "migrate"], cwd=project, env=env, timeout=120)

            port = free_port()
            service = Server(
                f"{slug} serve",
                [
                    "uv",
                    "run",
                    "--frozen",
                    slug,
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--workers",
                    str(WORKERS),
                ],
                cwd=project,
                env=env,
                log_path=workdir / "service.log",
            )
            base = f"http://{HOST}:{port}"
            with serving(service):
                service.wait_ready(f"{base}/health/ready", timeout=60)
                bearer = access_token(base)
                http["GET /health/live"] = load(
                    "GET /health/live", f"{base}/health/live", args.warmup, args.duration, service
                )
                http["GET /api/v1/users/me (auth)"] = load(
                    "GET /api/v1/users/me",
                    f"{base}/api/v1/users/me",
                    args.warmup,
                    args.duration,
                    service,
                    headers=[f"Authorization: Bearer {bearer}"],
                )

            machine = machine_info(venv_python)
            background["load_average_end"] = load_average()
            machine["background"] = background
        except BenchError as exc:
            print(f"\nfoundation benchmark FAILED: {exc}", file=sys.stderr)
            return 1
        finally:
            if venv_python is not None and venv_python.exists():
                if db_created:
                    try:
                        drop_database(db_name, venv_python)
                        log(f"cleaned up: database {db_name} dropped")
                    except BenchError as exc:
                        print(f"could not drop database {db_name}: {exc}", file=sys.stderr)
                try:
                    n = delete_redis_keys(prefix, venv_python)
                    log(f"cleaned up: {n} Redis keys {prefix}* deleted")
                except BenchError as exc:
                    print(f"could not delete Redis keys {prefix}*: {exc}", file=sys.stderr)

    ceiling_rps = http["ceiling: bare ASGI, uvicorn"]["req_per_s"]
    for r in http.values():
        r["ratio_to_ceiling"] = round(r["req_per_s"] / ceiling_rps, 4) if ceiling_rps else None

    record = {
        "benchmark": "foundation",
        "commit": commit,
        "date": date.isoformat().replace("+00:00", "Z"),
        "machine": machine,
        "settings": {
            "wrk": f"wrk -t{WRK_THREADS} -c{WRK_CONNECTIONS} -d{args.duration}s --latency",
            "warmup_s": args.warmup,
            "server_workers": WORKERS,
            "renders_per_scenario": args.renders,
            "load_scenario": LOAD_SCENARIO,
        },
        "render_seconds": render_seconds,
        "http": http,
        "any_errors": any(r["errors"] for r in http.values()),
        "elapsed_s": round(time.monotonic() - started, 1),
    }
    print(json.dumps(record, indent=2))
    if args.no_record:
        return 0
    json_path = write_results(record)
    append_results_md(results_block(record, json_path))
    log(f"recorded {json_path.relative_to(REPO)} and appended to {RESULTS_MD.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
