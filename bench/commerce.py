"""E-commerce benchmark: the store's hot paths against the issue's targets, and a Locust run.

Run from the repository root:

    uv run python bench/commerce.py

What it does, in one run (about 4-5 minutes on 2 cores):

1. Renders scenarios/ecommerce.yml from the working tree, `uv sync --frozen --group load`s it,
   creates a throwaway PostgreSQL database, migrates it and seeds a catalog of 100,000
   products with the project's own `seed --products` command (its wall time is recorded).
2. Starts the project's local Stripe API server (tests/stripe_api.py, the one its test suite
   uses) and `<slug> serve --workers 2` with production settings: PostgreSQL, Redis,
   APP_ENV=production, LOG_LEVEL=WARNING, the SDK pointed at the local Stripe server, rate
   limits raised so the load generator is not throttled.
3. wrk (`-t2 -c64`, warm-up first) on 127.0.0.1: a page of 20 products, product detail
   (rotating over 1,000 products with a Lua script), and an authenticated read (the current
   user's orders). The same run measures two ceilings on the same server settings: a raw ASGI
   hello-world, and FastAPI answering the orders page as fixed bytes behind the same bearer
   token check (what the framework allows an authenticated read here).
4. Checkout end to end (before the authenticated read, which then lists one of these
   shoppers' orders): 64 concurrent shoppers (each its own account) put one item in the
   cart, check out against a product with a known stock and deliver the signed
   payment_intent.succeeded webhook, for a bounded time; orders/s, p50/p95 of checkout +
   payment, and the oversell check (units ordered == stock taken, stock >= 0).
5. Locust (loadtest/locustfile.py, the project's own): headless for a bounded time with a
   bounded number of users; its pass criteria come from the derived profile's SLA targets
   and its exit code says whether they were met.
6. Writes bench/results/commerce-<UTC date>-<short commit>.json and appends a block to
   bench/RESULTS-commerce.md. Figures are recorded, not asserted.

Needs what bench/foundation.py needs (uv, wrk, PostgreSQL and Redis on 127.0.0.1).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import hmac
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import foundation as fb

HOST = fb.HOST
TARGETS = {
    "GET /api/v1/products?limit=20": {"req_per_s": 10_000, "p99_ms": 50},
    "GET /api/v1/products/{id}": {"req_per_s": 10_000, "p99_ms": 50},
    "GET /api/v1/orders (auth)": {"req_per_s": 5_000},
    "checkout": {"orders_per_s": 300},
}
CATALOG_SIZE = 100_000
WEBHOOK_SECRET = "whsec_" + "bench" * 8
RESULTS_MD = fb.BENCH / "RESULTS-commerce.md"

DETAIL_LUA = """\
-- Rotate over product ids read from a file, one per line, so detail reads are not one key.
local ids = {}
for line in io.lines("%(ids)s") do ids[#ids + 1] = line end
local n = 0
request = function()
  n = n + 1
  return wrk.format("GET", "/api/v1/products/" .. ids[(n %% #ids) + 1])
end
"""


# The framework's own ceiling for an authenticated read, measured in the same run: FastAPI
# with the service's bearer-token check (OAuth2PasswordBearer + PyJWT HS256, same secret and
# token) answering a fixed body (the orders page the service answered); no middleware, no
# database, no cache. What the service adds on its authenticated read is the gap to this.
AUTH_CEILING_APP = """\
import os
import uuid
from pathlib import Path
from typing import Annotated

import jwt
from fastapi import Depends, FastAPI, HTTPException, Response
from fastapi.security import OAuth2PasswordBearer

SECRET = os.environ["SECRET_KEY"]
BODY = Path(os.environ["CEILING_BODY_FILE"]).read_bytes()
oauth2 = OAuth2PasswordBearer(tokenUrl="/login", auto_error=False)
app = FastAPI()


async def caller(token: Annotated[str | None, Depends(oauth2)]) -> uuid.UUID:
    if token is None:
        raise HTTPException(401)
    claims = jwt.decode(token, SECRET, algorithms=["HS256"], options={"require": ["exp", "sub"]})
    return uuid.UUID(claims["sub"])


@app.get("/api/v1/orders")
async def orders(caller: Annotated[uuid.UUID, Depends(caller)]) -> Response:
    return Response(BODY, media_type="application/json")
"""


def log(message: str) -> None:
    print(f"[commerce {time.strftime('%H:%M:%S')}] {message}", flush=True)


# --------------------------------------------------------------------------- checkout load


async def _shopper_tokens(base: str, n: int) -> list[str]:
    import httpx

    async with httpx.AsyncClient(base_url=base, timeout=30) as http:

        async def one(i: int) -> str:
            email = f"shopper-{i}-{fb.random_text(6).lower()}@example.com"
            password = fb.random_text(24)
            made = await http.post(
                "/api/v1/auth/register",
                json={"email": email, "password": password, "full_name": f"Shopper {i}"},
            )
            made.raise_for_status()
            login = await http.post(
                "/api/v1/auth/login", json={"email": email, "password": password}
            )
            login.raise_for_status()
            return str(login.json()["access_token"])

        tokens = []
        for start in range(0, n, 16):  # registration hashes passwords: a few at a time
            tokens += await asyncio.gather(*(one(i) for i in range(start, min(n, start + 16))))
        return tokens


async def _checkout_load(
    base: str, tokens: list[str], product_id: str, seconds: float
) -> dict[str, Any]:
    """Each shopper loops: one item in the cart, check out; until time is up."""
    import httpx

    latencies: list[float] = []
    codes: dict[int, int] = {}
    hooks: dict[int, int] = {}
    deadline = time.monotonic() + seconds
    limits = httpx.Limits(max_connections=len(tokens), max_keepalive_connections=len(tokens))

    async with httpx.AsyncClient(base_url=base, timeout=30, limits=limits) as http:

        async def shopper(token: str) -> None:
            headers = {"Authorization": f"Bearer {token}"}
            while time.monotonic() < deadline:
                added = await http.post(
                    "/api/v1/cart/items",
                    json={"product_id": product_id, "quantity": 1},
                    headers=headers,
                )
                if added.status_code != 200:
                    codes[added.status_code] = codes.get(added.status_code, 0) + 1
                    if added.status_code == 409:  # sold out: nothing more to buy
                        return
                    continue
                started = time.perf_counter()
                done = await http.post("/api/v1/checkout", headers=headers)
                if done.status_code == 201:
                    # Stripe confirms the payment: the signed webhook marks the order paid
                    # (and empties the cart for the next round).
                    paid = await http.post(
                        "/api/v1/payments/webhook",
                        content=(event := _succeeded(done.json())),
                        headers={"Stripe-Signature": _signature(event)},
                    )
                    hooks[paid.status_code] = hooks.get(paid.status_code, 0) + 1
                latencies.append(time.perf_counter() - started)
                codes[done.status_code] = codes.get(done.status_code, 0) + 1
                if done.status_code == 409:
                    return

        started = time.monotonic()
        await asyncio.gather(*(shopper(t) for t in tokens))
        elapsed = time.monotonic() - started
    created = codes.get(201, 0)
    paid = hooks.get(200, 0)
    ordered = sorted(latencies)

    def pct(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {
        "seconds": round(elapsed, 2),
        "orders": created,
        "orders_per_s": round(created / elapsed, 1) if elapsed else 0.0,
        "paid": paid,
        "p50_ms": pct(0.50) if ordered else None,
        "p95_ms": pct(0.95) if ordered else None,
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "webhook_status_codes": {str(k): v for k, v in sorted(hooks.items())},
    }


def _succeeded(checkout: dict[str, Any]) -> str:
    """The payment_intent.succeeded event Stripe sends for this checkout's intent."""
    order = checkout["order"]
    return json.dumps(
        {
            "id": f"evt_bench_{fb.random_text(16)}",
            "object": "event",
            "type": "payment_intent.succeeded",
            "created": int(time.time()),
            "data": {
                "object": {
                    "id": checkout["payment_intent_id"],
                    "object": "payment_intent",
                    "amount": order["total_minor"],
                    "currency": order["currency"].lower(),
                    "status": "succeeded",
                    "metadata": {"order_id": order["id"]},
                }
            },
        }
    )


def _signature(payload: str) -> str:
    """Stripe's scheme: t=<unix time>,v1=HMAC-SHA256(secret, f"{t}.{payload}")."""
    stamp = int(time.time())
    digest = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.{payload}".encode(), hashlib.sha256)
    return f"t={stamp},v1={digest.hexdigest()}"


def checkout_bench(
    base: str,
    admin_token: str,
    venv_python: Path,
    db_url: str,
    shoppers: int,
    seconds: float,
    server: fb.Server,
) -> tuple[dict[str, Any], list[str]]:
    stock = 1_000_000
    status, product = fb.http_json(
        "POST",
        f"{base}/api/v1/products",
        {
            "sku": f"BENCH-{fb.random_text(8).upper()}",
            "name": "Bench item",
            "price_minor": 1999,
            "currency": "EUR",
            "stock": stock,
        },
        token=admin_token,
    )
    if status != 201 or not isinstance(product, dict):
        raise fb.BenchError(f"creating the bench product answered {status}: {product}")
    tokens = asyncio.run(_shopper_tokens(base, shoppers))
    meter = fb.CpuMeter(server.proc.pid)
    result = asyncio.run(_checkout_load(base, tokens, str(product["id"]), seconds))
    # Where the CPU went: the service's own CPU time per order says whether it, and not the
    # row lock or the load generator (in "other", with the Stripe API server), set the pace.
    cpu = result["cpu_shares"] = meter.shares()
    if cpu and result["orders"]:
        core_seconds = result["seconds"] * (os.cpu_count() or 1)
        result["service_cpu_ms_per_order"] = round(
            1000 * cpu["server"] * core_seconds / result["orders"], 1
        )
    # The oversell check, straight from the database: what was taken equals what was ordered.
    rows = fb.run(
        [
            venv_python,
            "-c",
            (
                "import asyncio, asyncpg, sys\n"
                "async def main():\n"
                f"    conn = await asyncpg.connect({db_url.replace('+asyncpg', '')!r})\n"
                "    stock = await conn.fetchval('SELECT stock FROM products WHERE id = $1::uuid',"
                f" {product['id']!r})\n"
                "    lines = await conn.fetchval('SELECT coalesce(sum(quantity), 0) FROM order_lines"
                f" WHERE product_id = $1::uuid', {product['id']!r})\n"
                "    print(stock, lines)\n"
                "    await conn.close()\n"
                "asyncio.run(main())\n"
            ),
        ],
        env=fb.project_env(),
        timeout=60,
    ).stdout.split()
    left, ordered = int(rows[0]), int(rows[1])
    result["stock_start"] = stock
    result["stock_left"] = left
    result["units_ordered"] = ordered
    result["oversold"] = left < 0 or stock - left != ordered
    return result, tokens


# --------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> int:
    cli = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    cli.add_argument("--duration", type=int, default=15, help="seconds per measured wrk run")
    cli.add_argument("--warmup", type=int, default=5, help="seconds of each warm-up wrk run")
    cli.add_argument("--checkout-seconds", type=int, default=20)
    cli.add_argument("--shoppers", type=int, default=64)
    cli.add_argument("--locust-seconds", type=int, default=30)
    cli.add_argument("--locust-users", type=int, default=40)
    cli.add_argument("--products", type=int, default=CATALOG_SIZE)
    cli.add_argument("--no-record", action="store_true", help="print figures, write nothing")
    args = cli.parse_args(argv)

    if not shutil.which("wrk"):
        print(
            "wrk is not installed: `apt-get install -y wrk`, then run this again.", file=sys.stderr
        )
        return 2
    scenario = fb.load_scenarios()["ecommerce"]
    slug = scenario["project_slug"]
    record: dict[str, Any] = {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "commit": fb.commit_info(),
        "settings": {
            "wrk": f"wrk -t{fb.WRK_THREADS} -c{fb.WRK_CONNECTIONS} -d{args.duration}s --latency",
            "warmup_s": args.warmup,
            "server": f"{slug} serve --workers {fb.WORKERS}",
            "catalog_products": args.products,
            "checkout": {"shoppers": args.shoppers, "seconds": args.checkout_seconds},
            "locust": {"users": args.locust_users, "seconds": args.locust_seconds},
        },
        "targets": TARGETS,
    }
    with tempfile.TemporaryDirectory(prefix="prodkit-commerce-") as tmp:
        work = Path(tmp)
        project = work / slug
        fb.render(project, scenario)
        log(f"rendered {project}")
        env = fb.project_env()
        fb.run(
            ["uv", "sync", "--frozen", "--group", "load", "-q"], cwd=project, env=env, timeout=600
        )
        python = project / ".venv" / "bin" / "python"
        record["machine"] = fb.machine_info(python)
        db_name = f"bench_commerce_{fb.random_text(6).lower()}"
        prefix = f"bench-{fb.random_text(6).lower()}"
        db_url = f"postgresql+asyncpg://postgres@{HOST}:5432/{db_name}"
        fb.create_database(db_name, python)
        servers: list[fb.Server] = []
        try:
            senv = fb.service_env(db_url, prefix)
            stripe_port = fb.free_port()
            senv |= {
                "STRIPE_SECRET_KEY": "sk_test_" + fb.random_text(24),
                "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "STRIPE_API_BASE": f"http://{HOST}:{stripe_port}",
            }
            fb.run([python, "-m", slug, "migrate"], cwd=project, env=senv, timeout=300)
            started = time.perf_counter()
            seeded = fb.run(
                [python, "-m", slug, "seed", "--products", str(args.products)],
                cwd=project,
                env=senv,
                timeout=600,
            )
            record["seed"] = {
                "products": args.products,
                "seconds": round(time.perf_counter() - started, 2),
            }
            admin_password = _admin_password(seeded.stdout)
            log(f"seeded {args.products:,} products in {record['seed']['seconds']} s")

            stripe = fb.Server(
                "stripe-api",
                [python, "-m", "tests.stripe_api", "--host", HOST, "--port", str(stripe_port)],
                project,
                env,
                work / "stripe.log",
            )
            servers.append(stripe)
            stripe.wait_ready(f"http://{HOST}:{stripe_port}/health", timeout=30)

            port = fb.free_port()
            base = f"http://{HOST}:{port}"
            service = fb.Server(
                "service",
                [
                    python,
                    "-m",
                    slug,
                    "serve",
                    "--host",
                    HOST,
                    "--port",
                    str(port),
                    "--workers",
                    str(fb.WORKERS),
                ],
                project,
                senv,
                work / "service.log",
            )
            servers.append(service)
            service.wait_ready(f"{base}/health/ready", timeout=60)
            record["machine"]["background"] = {
                "cpu_busy_before_load": fb.cpu_busy(),
                "load_average": fb.load_average(),
            }

            status, login = fb.http_json(
                "POST",
                f"{base}/api/v1/auth/login",
                {"email": "admin@example.com", "password": admin_password},
            )
            if status != 200:
                raise fb.BenchError(f"admin login answered {status}: {login}")
            admin_token = str(login["access_token"])
            ids_file = work / "ids.txt"
            ids_file.write_text("\n".join(_product_ids(base, 1000)) + "\n")
            lua = work / "detail.lua"
            lua.write_text(DETAIL_LUA % {"ids": ids_file})

            http: dict[str, Any] = {}
            http["GET /api/v1/products?limit=20"] = fb.load(
                "list", f"{base}/api/v1/products?limit=20", args.warmup, args.duration, service
            )
            http["GET /api/v1/products/{id}"] = _load_script(
                "detail", f"{base}/", lua, args.warmup, args.duration, service
            )
            log("checkout load ...")
            record["checkout"], buyers = checkout_bench(
                base,
                admin_token,
                python,
                db_url.replace("+asyncpg", ""),
                args.shoppers,
                args.checkout_seconds,
                service,
            )
            log(f"checkout: {record['checkout']}")
            # The authenticated read: a shopper who has just placed orders reads their list.
            http["GET /api/v1/orders (auth)"] = fb.load(
                "orders (auth)",
                f"{base}/api/v1/orders",
                args.warmup,
                args.duration,
                service,
                headers=(f"Authorization: Bearer {buyers[0]}",),
            )
            log("locust ...")
            record["locust"] = _locust(project, base, senv, work, args)
            log(f"locust: {record['locust']['summary']}")
            body_file = work / "orders.json"
            body_file.write_bytes(_get(f"{base}/api/v1/orders", buyers[0]))
            service.stop()
            servers.remove(service)

            ceiling = _ceiling(project, python, env, work, args)
            auth_env = env | {"SECRET_KEY": senv["SECRET_KEY"], "CEILING_BODY_FILE": str(body_file)}
            (work / "auth_ceiling.py").write_text(AUTH_CEILING_APP)
            auth_ceiling = _ceiling(
                project,
                python,
                auth_env,
                work,
                args,
                app="auth_ceiling:app",
                path="/api/v1/orders",
                headers=(f"Authorization: Bearer {buyers[0]}",),
            )
            http = {
                "ceiling: bare ASGI, uvicorn": ceiling,
                "ceiling: FastAPI + bearer token, fixed body": auth_ceiling,
                **http,
            }
            for result in http.values():
                result["ratio_to_ceiling"] = round(result["req_per_s"] / ceiling["req_per_s"], 3)
            record["http"] = http
        finally:
            for server in servers:
                server.stop()
            fb.drop_database(db_name, python)
            fb.delete_redis_keys(prefix, python)
    _report(record, args.no_record)
    return 0


def _admin_password(output: str) -> str:
    for line in output.splitlines():
        if "password" in line.lower() and ":" in line:
            return line.rsplit(":", 1)[1].strip()
    raise fb.BenchError(f"seed printed no admin password:\n{output}")


def _product_ids(base: str, n: int) -> list[str]:
    ids: list[str] = []
    cursor = None
    while len(ids) < n:
        url = f"{base}/api/v1/products?limit=100" + (f"&cursor={cursor}" if cursor else "")
        status, page = fb.http_json("GET", url)
        if status != 200:
            raise fb.BenchError(f"listing products answered {status}: {page}")
        ids += [item["id"] for item in page["items"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    return ids[:n]


def _load_script(
    name: str, url: str, script: Path, warmup: int, duration: int, server: fb.Server
) -> dict[str, Any]:
    argv = ["wrk", f"-t{fb.WRK_THREADS}", f"-c{fb.WRK_CONNECTIONS}", "--latency", "-s", str(script)]
    if warmup:
        fb.run([*argv, f"-d{warmup}s", url], timeout=warmup + 30)
    meter = fb.CpuMeter(server.proc.pid)
    result = fb.parse_wrk(fb.run([*argv, f"-d{duration}s", url], timeout=duration + 30).stdout)
    result["cpu_shares"] = cpu = meter.shares()
    result["other_cpu_share"] = cpu["other"] if cpu else None
    log(f"{name}: {result['req_per_s']:,.0f} req/s, p99 {result['p99_ms']:.2f} ms")
    return result


def _get(url: str, token: str) -> bytes:
    import urllib.request

    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return bytes(response.read())


def _ceiling(
    project: Path,
    python: Path,
    env: dict[str, str],
    work: Path,
    args: argparse.Namespace,
    app: str = "hello_asgi:app",
    path: str = "/",
    headers: Sequence[str] = (),
) -> dict[str, Any]:
    """A minimal app on the service's server settings (the raw ASGI hello-world by default)."""
    (work / "hello_asgi.py").write_text(fb.HELLO_ASGI)
    port = fb.free_port()
    server = fb.Server(
        app.split(":")[0],
        [
            python,
            "-m",
            "uvicorn",
            app,
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(fb.WORKERS),
            "--http",
            "httptools",
            "--loop",
            "uvloop",
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        work,
        env,
        work / f"{app.split(':')[0]}.log",
    )
    with fb.serving(server):
        ready = f"http://{HOST}:{port}" + ("/openapi.json" if headers else "/")
        server.wait_ready(ready, timeout=30)
        return fb.load(
            app, f"http://{HOST}:{port}{path}", args.warmup, args.duration, server, headers=headers
        )


def _locust(
    project: Path, base: str, senv: dict[str, str], work: Path, args: argparse.Namespace
) -> dict[str, Any]:
    csv = work / "locust"
    result = fb.run(
        [
            project / ".venv" / "bin" / "locust",
            "-f",
            "loadtest/locustfile.py",
            "--headless",
            "--host",
            base,
            "-u",
            str(args.locust_users),
            "-r",
            str(args.locust_users),
            "-t",
            f"{args.locust_seconds}s",
            "--csv",
            str(csv),
            "--only-summary",
        ],
        cwd=project,
        env=senv,
        timeout=args.locust_seconds + 120,
        check=False,
    )
    rows = (csv.with_name("locust_stats.csv")).read_text().splitlines()
    header = rows[0].split(",")
    stats = [dict(zip(header, row.split(","), strict=False)) for row in rows[1:]]
    total = next(s for s in stats if s.get("Name") == "Aggregated")
    return {
        "exit_code": result.returncode,
        "passed": result.returncode == 0,
        "summary": {
            "requests": int(total["Request Count"]),
            "failures": int(total["Failure Count"]),
            "req_per_s": round(float(total["Requests/s"]), 1),
            "p95_ms": float(total["95%"]),
        },
        "verdict": [
            line for line in (result.stdout + result.stderr).splitlines() if line.startswith("SLA")
        ][-5:],
        "by_name": {
            s["Name"]: {"requests": int(s["Request Count"]), "p95_ms": float(s["95%"])}
            for s in stats
            if s.get("Name") != "Aggregated"
        },
    }


def _report(record: dict[str, Any], dry: bool) -> None:
    lines = [
        f"## {record['date']} - {record['commit']['short']}"
        + (" (dirty)" if record["commit"]["dirty"] else ""),
        "",
        (
            f"{record['machine']['nproc']} cores ({record['machine']['cpu_model']}); "
            f"{record['settings']['wrk']}; {record['settings']['server']}; PostgreSQL + Redis; "
            f"catalog {record['seed']['products']:,} products (seeded in "
            f"{record['seed']['seconds']} s)."
        ),
        "",
        "| target | req/s | p50 | p99 | target | met | ratio to ceiling | other CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for name, r in record["http"].items():
        goal = TARGETS.get(name, {})
        met = (
            "-"
            if not goal
            else (
                "yes"
                if r["req_per_s"] >= goal["req_per_s"]
                and r["p99_ms"] < goal.get("p99_ms", float("inf"))
                and not r["errors"]
                else "**no**"
            )
        )
        want = (
            f">= {goal['req_per_s']:,} req/s"
            + (f", p99 < {goal['p99_ms']} ms" if "p99_ms" in goal else "")
            if goal
            else "-"
        )
        other = r.get("other_cpu_share")
        lines.append(
            f"| {name}{' **ERRORS**' if r['errors'] else ''} | {r['req_per_s']:,.0f} "
            f"| {r['p50_ms']:.2f} ms | {r['p99_ms']:.2f} ms | {want} | {met} "
            f"| {r['ratio_to_ceiling']:.3f} | {'n/a' if other is None else f'{100 * other:.0f}%'} |"
        )
    auth = record["http"].get("ceiling: FastAPI + bearer token, fixed body")
    orders = record["http"].get("GET /api/v1/orders (auth)")
    if auth and orders:
        lines += [
            "",
            (
                f"The authenticated read answers {orders['req_per_s'] / auth['req_per_s']:.2f} "
                f"of what FastAPI itself answers here with the same token check and a fixed "
                f"body ({auth['req_per_s']:,.0f} req/s: no middleware, database or cache)."
            ),
        ]
    c = record["checkout"]
    lines += [
        "",
        f"Checkout end to end ({record['settings']['checkout']['shoppers']} shoppers, local "
        f"Stripe API server): **{c['orders_per_s']:,} orders/s** (target >= "
        f"{TARGETS['checkout']['orders_per_s']}), p50 {c['p50_ms']} ms, p95 {c['p95_ms']} ms; "
        f"{c['orders']} orders, {c['units_ordered']} units taken from stock "
        f"{c['stock_start']:,} -> {c['stock_left']:,}: "
        + ("**OVERSOLD**" if c["oversold"] else "no oversell")
        + f"; {c['paid']} paid by webhook; status codes {c['status_codes']}, webhook "
        + f"{c['webhook_status_codes']}."
        + (
            f" CPU while it ran: machine {100 * c['cpu_shares']['busy']:.0f}% busy, the service "
            f"{100 * c['cpu_shares']['server']:.0f}% ({c['service_cpu_ms_per_order']} ms of CPU "
            f"per order), PostgreSQL + Redis {100 * c['cpu_shares']['postgres_redis']:.0f}%, "
            f"load generator and Stripe API server {100 * c['cpu_shares']['other']:.0f}%."
            if c.get("service_cpu_ms_per_order") is not None
            else ""
        ),
        "",
        f"Locust ({record['settings']['locust']['users']} users, "
        f"{record['settings']['locust']['seconds']} s): {record['locust']['summary']}; SLA "
        + ("met" if record["locust"]["passed"] else "**missed**")
        + (f" ({'; '.join(record['locust']['verdict'])})" if record["locust"]["verdict"] else "")
        + ".",
        "",
    ]
    block = "\n".join(lines)
    print(block)
    if dry:
        return
    fb.RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = fb.RESULTS_DIR / f"commerce-{record['date'][:10]}-{record['commit']['short']}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    if not RESULTS_MD.exists():
        RESULTS_MD.write_text(
            "# E-commerce benchmark results\n\n"
            "`uv run python bench/commerce.py` (see its docstring for what it measures). "
            "Figures are recorded with the commit and machine, not asserted.\n"
        )
    with RESULTS_MD.open("a") as fh:
        fh.write("\n" + block + f"Record: `{path.relative_to(fb.BENCH).as_posix()}`.\n")
    log(f"wrote {path}")


if __name__ == "__main__":
    sys.exit(main())
