"""HTTP API of accounts: /api/v1/auth/* and /api/v1/users/*."""

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.security import OAuth2PasswordRequestForm

from ..deps import AdminUser, CurrentUser, LimiterDep, SessionDep, SettingsDep
from ..errors import Unprocessable
from ..schemas import contains_nul
from . import service
from .schemas import LoginIn, RefreshIn, RegisterIn, RoleIn, TokenPair, UserOut

router = APIRouter(prefix="/api/v1")


async def _limit_login(request: Request, limiter: LimiterDep, email: str) -> None:
    client = request.client.host if request.client else "unknown"
    await limiter.enforce(limiter.login, "login", client, email.lower())


@router.post(
    "/auth/register", status_code=status.HTTP_201_CREATED, response_model=UserOut, tags=["auth"]
)
async def register(
    body: RegisterIn, request: Request, session: SessionDep, limiter: LimiterDep
) -> UserOut:
    """Create a member account. 409 if the email is already registered."""
    await _limit_login(request, limiter, body.email)
    user = await service.register(session, body.email, body.password, body.full_name)
    return UserOut.model_validate(user)


@router.post("/auth/login", tags=["auth"])
async def login(
    body: LoginIn, request: Request, session: SessionDep, settings: SettingsDep, limiter: LimiterDep
) -> TokenPair:
    """Exchange email and password for an access token and a refresh token."""
    await _limit_login(request, limiter, body.email)
    user = await service.authenticate(session, body.email, body.password)
    return await service.issue_pair(session, settings, user)


@router.post("/auth/token", tags=["auth"], include_in_schema=True)
async def token(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    limiter: LimiterDep,
) -> TokenPair:
    """OAuth2 password flow (form fields `username` and `password`), used by the docs' Authorize."""
    if contains_nul(form.username) or contains_nul(form.password):
        raise Unprocessable("username and password must not contain NUL characters")
    await _limit_login(request, limiter, form.username)
    user = await service.authenticate(session, form.username, form.password)
    return await service.issue_pair(session, settings, user)


@router.post("/auth/refresh", tags=["auth"])
async def refresh(body: RefreshIn, session: SessionDep, settings: SettingsDep) -> TokenPair:
    """Rotate a refresh token: the old one stops working, a new pair is returned."""
    return await service.rotate(session, settings, body.refresh_token)


@router.post("/auth/logout", status_code=status.HTTP_204_NO_CONTENT, tags=["auth"])
async def logout(
    body: RefreshIn, user: CurrentUser, session: SessionDep, settings: SettingsDep
) -> None:
    """Revoke the refresh token (and every rotation of it)."""
    await service.logout(session, settings, body.refresh_token, user)


@router.get("/users/me", tags=["users"])
async def me(user: CurrentUser) -> UserOut:
    """The authenticated user's own account."""
    return UserOut.model_validate(user)


@router.get("/users", tags=["users"])
async def list_users(
    _admin: AdminUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[UserOut]:
    """All accounts (admins only)."""
    return [UserOut.model_validate(u) for u in await service.list_users(session, limit, offset)]


@router.put("/users/{user_id}/role", tags=["users"])
async def set_role(
    user_id: uuid.UUID, body: RoleIn, admin: AdminUser, session: SessionDep
) -> UserOut:
    """Make a user an admin or a member (admins only)."""
    return UserOut.model_validate(await service.set_role(session, admin, user_id, body.role))
