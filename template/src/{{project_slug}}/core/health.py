"""Liveness and readiness probes for load balancers and orchestrators."""

import asyncio
from collections.abc import Awaitable

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .errors import problem_response

router = APIRouter(prefix="/health", tags=["operations"])
CHECK_TIMEOUT_SECONDS = 2.0


@router.get("/live")
async def live() -> dict[str, str]:
    """The process is up and serving requests."""
    return {"status": "ok"}


async def _check(name: str, probe: Awaitable[object]) -> tuple[str, str]:
    try:
        await asyncio.wait_for(probe, CHECK_TIMEOUT_SECONDS)
    except Exception as exc:
        return name, f"failed: {type(exc).__name__}"
    return name, "ok"


@router.get("/ready", response_model=None)
async def ready(request: Request) -> JSONResponse | dict[str, object]:
    """The database (and Redis, when configured) answer: safe to route traffic here."""
    state = request.app.state
    probes = [_check("database", state.db.ping())]
    if state.redis is not None:
        probes.append(_check("redis", state.redis.ping()))
    checks = dict(await asyncio.gather(*probes))
    if all(result == "ok" for result in checks.values()):
        return {"status": "ok", "checks": checks}
    return problem_response(503, "A dependency is not reachable", checks=checks)
