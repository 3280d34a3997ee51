"""Application factory: settings -> core services -> the domain package.

`create_app()` builds a fresh application with its own services on `app.state`, so tests (and
the `serve` command's worker processes) each get independent instances.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable

import structlog
from asgi_correlation_id import CorrelationIdMiddleware
from fastapi import FastAPI
from redis.asyncio import Redis
from starlette.middleware.cors import CORSMiddleware

from .core import health, jobs, metrics, profile, stream
from .core.auth.routes import router as auth_router
from .core.config import Settings, get_settings
from .core.db import Database
from .core.errors import install_error_handlers
from .core.logging import configure_logging
from .core.microcache import MicroCache, ResponseStore
from .core.middleware import Observe, RejectNul, SecurityHeaders
from .core.outbox import Dispatcher
from .core.ratelimit import AnonymousRateLimit, RateLimiter
from .core.realtime import create_hub
from .core.socketio import SocketGateway
from .registry import ROUTERS

log = structlog.get_logger(__name__)


async def _bounded(step: str, stopping: Awaitable[object], seconds: float = 5.0) -> None:
    """Wait for one shutdown step, but never let it hold up the process's exit."""
    try:
        async with asyncio.timeout(seconds):
            await stopping
    except TimeoutError:
        log.warning("shutdown_step_timed_out", step=step, seconds=seconds)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Connect the hub, start the job broker and the outbox dispatcher; stop them in reverse.

    Each shutdown step is bounded: an orchestrator kills a process that does not exit in time,
    so a stuck connection must cost a log line, not the graceful part of the shutdown.
    """
    state = app.state
    await state.hub.start()
    async with jobs.background(state.db, state.settings):
        dispatcher = asyncio.create_task(state.dispatcher.run(), name="outbox-dispatcher")
        try:
            yield
        finally:
            await _bounded("socketio", state.socketio.stop())
            state.dispatcher.stop()
            await _bounded("dispatcher", asyncio.wait({dispatcher}))
            if not dispatcher.done():  # a batch stuck past the bound
                dispatcher.cancel()
                await _bounded("dispatcher", asyncio.wait({dispatcher}), seconds=1.0)
    await _bounded("hub", state.hub.stop())
    if state.redis is not None:
        await _bounded("redis", state.redis.aclose())
    await _bounded("database", state.db.dispose())


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the service for `settings` (the environment's by default)."""
    settings = settings or get_settings()
    configure_logging(settings.log_level)
    app = FastAPI(
        title=profile.PROJECT_NAME,
        summary=profile.DESCRIPTION,
        version="0.1.0",
        lifespan=lifespan,
    )
    state = app.state
    state.settings = settings
    state.db = Database(settings)
    state.redis = Redis.from_url(settings.redis_url) if settings.redis_url else None
    state.hub = create_hub(settings.redis_url, settings.redis_prefix)
    state.limiter = RateLimiter(settings)
    state.microcache = ResponseStore()
    state.dispatcher = Dispatcher(
        state.db, state.hub, jobs.deliver_event, poll_seconds=settings.outbox_poll_seconds
    )
    state.socketio = SocketGateway(settings, state.db, state.hub)

    install_error_handlers(app)
    for router in (health.router, metrics.router, auth_router, stream.router, *ROUTERS):
        app.include_router(router)
    app.mount("/socket.io", state.socketio.asgi)  # Socket.IO (Engine.IO v4) clients

    # Added innermost first: the request id is set before anything logs or answers.
    # Innermost: a repeated public read skips routing and the database, nothing else.
    app.add_middleware(MicroCache, store=state.microcache)
    app.add_middleware(RejectNul)
    app.add_middleware(AnonymousRateLimit, limiter=state.limiter)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_credentials=True,
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=[
            "Authorization",
            "Content-Type",
            "Idempotency-Key",
            "Last-Event-ID",
            "X-Request-ID",
        ],
        expose_headers=["X-Request-ID", "Retry-After"],
    )
    app.add_middleware(SecurityHeaders)
    app.add_middleware(Observe)
    app.add_middleware(CorrelationIdMiddleware, header_name="X-Request-ID")
    return app
