"""Command line: `serve`, `migrate`, `seed` and `worker`.

<package> serve [--host H] [--port P] [--workers N] [--reload]
<package> migrate [--revision REV]
<package> seed [--size N | --products N] [--admin-email E] [--admin-password P]
<package> worker
"""

import argparse
import asyncio
import atexit
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

from .core.config import Settings, get_settings

APP = f"{__package__}.main:create_app"


def _metrics_dir() -> None:
    """Give this server's processes a fresh shared directory for multiprocess metrics."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return
    path = Path(tempfile.mkdtemp(prefix=f"{__package__}-metrics-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = str(path)


def _processes(settings: Settings, asked: int | None) -> int:
    """How many server processes: the profile's, but one without Redis.

    Without REDIS_URL the event hub, the job queue and the read caches live in the process;
    a second process would neither see the first one's events nor notice its writes.
    """
    wanted = asked or settings.web_concurrency
    if settings.redis_url or wanted == 1:
        return wanted
    print(
        f"REDIS_URL is not set: serving 1 process instead of {wanted} (events, jobs and read "
        "caches are kept in the process; set REDIS_URL to run several)",
        file=sys.stderr,
    )
    return 1


def serve(settings: Settings, args: argparse.Namespace) -> int:
    """Run the HTTP server with the production settings (several processes, no access log:
    the app writes its own JSON access log)."""
    import uvicorn

    # First: metrics created by any import below must already write to the shared directory.
    _metrics_dir()
    if settings.is_sqlite:
        # Embedded default: one command from checkout to a running service. Production
        # (PostgreSQL) migrates once per release with `migrate`, not in every replica.
        from .migrations import upgrade

        upgrade(settings.database_url)
    uvicorn.run(
        APP,
        factory=True,
        host=args.host or settings.host,
        port=args.port or settings.port,
        workers=None if args.reload else _processes(settings, args.workers),
        reload=args.reload,
        access_log=False,
        log_config=None,
        proxy_headers=True,
        timeout_graceful_shutdown=10,
    )
    return 0


def migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Apply database migrations (idempotent: already-applied ones are skipped)."""
    from .migrations import upgrade

    upgrade(settings.database_url, args.revision)
    print(f"database migrated to {args.revision}")
    return 0


def seed(settings: Settings, args: argparse.Namespace) -> int:
    """Create the demo admin, members and domain data."""
    from .seed import run

    report = asyncio.run(run(settings, args.size, args.admin_email, args.admin_password))
    print(report)
    return 0


def worker(settings: Settings, _args: argparse.Namespace) -> int:
    """Consume background jobs and send cron jobs until SIGINT or SIGTERM."""
    if settings.in_process:
        print(
            "REDIS_URL is not set: jobs run inside `serve` on the embedded default, "
            "so there is nothing for a worker to do. Set REDIS_URL to run workers.",
            file=sys.stderr,
        )
        return 2
    from .worker import run

    async def until_signalled() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await run(settings, stop)

    asyncio.run(until_signalled())
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog=__package__, description=__doc__.splitlines()[0])
    commands = root.add_subparsers(dest="command", required=True)
    p = commands.add_parser("serve", help=serve.__doc__)
    p.add_argument("--host")
    p.add_argument("--port", type=int)
    p.add_argument("--workers", type=int)
    p.add_argument("--reload", action="store_true", help="restart on code changes (development)")
    p.set_defaults(run=serve)
    p = commands.add_parser("migrate", help=migrate.__doc__)
    p.add_argument("--revision", default="head")
    p.set_defaults(run=migrate)
    p = commands.add_parser("seed", help=seed.__doc__)
    p.add_argument(
        "--size",
        "--products",
        dest="size",
        type=int,
        default=1000,
        help="how many domain records (e-commerce: products) to create",
    )
    p.add_argument("--admin-email", default="admin@example.com")
    p.add_argument("--admin-password", help="default: a new random password, printed once")
    p.set_defaults(run=seed)
    p = commands.add_parser("worker", help=worker.__doc__)
    p.set_defaults(run=worker)
    return root


def main(argv: Sequence[str] | None = None) -> None:
    args = parser().parse_args(argv)
    sys.exit(args.run(get_settings(), args))
