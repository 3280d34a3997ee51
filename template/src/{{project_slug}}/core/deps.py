"""FastAPI dependencies shared by every router: settings, session, current user, roles.

Services live on `app.state` (created by the app factory), so tests and several app
instances in one process never share globals.
"""

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.ext.asyncio import AsyncSession

from .auth.models import Role, User
from .config import Settings
from .errors import Forbidden, Unauthorized
from .ratelimit import RateLimiter
from .security import decode_token

oauth2 = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


# Async on purpose: FastAPI runs plain `def` dependencies in a thread pool, a hop per request.
async def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def limiter_of(request: Request) -> RateLimiter:
    limiter: RateLimiter = request.app.state.limiter
    return limiter


async def session_of(request: Request) -> AsyncIterator[AsyncSession]:
    async with request.app.state.db.sessions() as session:
        yield session


SettingsDep = Annotated[Settings, Depends(settings_of)]
SessionDep = Annotated[AsyncSession, Depends(session_of)]
LimiterDep = Annotated[RateLimiter, Depends(limiter_of)]


async def current_user(
    request: Request,
    settings: SettingsDep,
    session: SessionDep,
    limiter: LimiterDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> User:
    """The active user of a valid access token, counted against the per-user rate limit.

    Requests with a bearer token skip the anonymous limit (middleware); a token that turns out
    to be bad counts against the caller's address here, so random tokens cannot be used to
    step around that limit.
    """
    if token is None:
        raise Unauthorized()
    try:
        claims = decode_token(settings.secret_key.get_secret_value(), token, "access")
        user = await session.get(User, uuid.UUID(claims["sub"]))
        if user is None or not user.is_active:
            raise Unauthorized("The account is not active")
    except Unauthorized:
        client = request.client.host if request.client else "unknown"
        await limiter.enforce(limiter.anonymous, "ip", client)
        raise
    await limiter.enforce(limiter.authenticated, "user", str(user.id))
    return user


CurrentUser = Annotated[User, Depends(current_user)]


async def caller_id(
    request: Request,
    settings: SettingsDep,
    limiter: LimiterDep,
    token: Annotated[str | None, Depends(oauth2)],
) -> uuid.UUID:
    """The id of a valid access token's user, from the token alone: no database read.

    For hot read paths that only need to know whose data to read. The price: an account
    deactivated after the token was issued keeps reading its own data until the token expires
    (ACCESS_TOKEN_TTL_SECONDS, 15 minutes by default); anything that changes data, or reads
    another account's, uses `CurrentUser`, which checks the account on every request.
    """
    if token is None:
        raise Unauthorized()
    try:
        user_id = uuid.UUID(
            decode_token(settings.secret_key.get_secret_value(), token, "access")["sub"]
        )
    except (Unauthorized, KeyError, ValueError):
        client = request.client.host if request.client else "unknown"
        await limiter.enforce(limiter.anonymous, "ip", client)
        raise Unauthorized() from None
    await limiter.enforce(limiter.authenticated, "user", str(user_id))
    return user_id


CallerId = Annotated[uuid.UUID, Depends(caller_id)]


def require_role(*roles: Role) -> Callable[[User], Awaitable[User]]:
    """A dependency that lets only users with one of `roles` through (403 otherwise)."""

    async def check(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden(f"This action needs the {' or '.join(r.value for r in roles)} role")
        return user

    return check


AdminUser = Annotated[User, Depends(require_role(Role.ADMIN))]
