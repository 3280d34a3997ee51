"""Account rules: registration, credential checks, token issue and rotation, roles.

Each function takes the request's session and commits once, so a failure leaves nothing
half-written. Security-relevant actions are appended to the event log (topic `audit`) in
the same transaction.
"""

import uuid
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ..config import Settings
from ..errors import Conflict, NotFound, Unauthorized
from ..outbox import append_event
from ..security import decode_token, hash_password, issue_token, needs_rehash, verify_password
from .models import RefreshToken, Role, User
from .schemas import TokenPair

AUDIT = "audit"
# Verifying against a real hash when the account does not exist keeps the response time the
# same, so login timing does not reveal which emails are registered.
_DUMMY_HASH = hash_password("not-a-real-password-but-a-real-hash")


async def register(session: AsyncSession, email: str, password: str, full_name: str) -> User:
    """Create a member account; 409 when the email is taken (case-insensitively)."""
    user = User(email=email.lower(), full_name=full_name, password_hash=hash_password(password))
    session.add(user)
    try:
        await session.flush()
    except IntegrityError as exc:
        await session.rollback()
        raise Conflict("An account with this email already exists") from exc
    append_event(session, AUDIT, "user.registered", {"user_id": str(user.id)})
    await session.commit()
    return user


async def authenticate(session: AsyncSession, email: str, password: str) -> User:
    """The active user with these credentials, or a 401 that does not say which part failed."""
    user = await session.scalar(select(User).where(User.email == email.lower()))
    if user is None:
        verify_password(_DUMMY_HASH, password)
        raise Unauthorized("Incorrect email or password")
    if not verify_password(user.password_hash, password) or not user.is_active:
        append_event(session, AUDIT, "user.login_failed", {"user_id": str(user.id)})
        await session.commit()
        raise Unauthorized("Incorrect email or password")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


async def issue_pair(
    session: AsyncSession, settings: Settings, user: User, family_id: uuid.UUID | None = None
) -> TokenPair:
    """A new access token and a refresh token recorded in `family_id` (a new family on login)."""
    secret = settings.secret_key.get_secret_value()
    access, _, _ = issue_token(
        secret, "access", str(user.id), settings.access_token_ttl_seconds, role=user.role.value
    )
    refresh, jti, expires = issue_token(
        secret, "refresh", str(user.id), settings.refresh_token_ttl_seconds
    )
    family = family_id or uuid.uuid4()
    session.add(RefreshToken(id=jti, user_id=user.id, family_id=family, expires_at=expires))
    if family_id is None:
        append_event(session, AUDIT, "user.logged_in", {"user_id": str(user.id)})
    await session.commit()
    return TokenPair(
        access_token=access, refresh_token=refresh, expires_in=settings.access_token_ttl_seconds
    )


async def _current_refresh(session: AsyncSession, settings: Settings, token: str) -> RefreshToken:
    claims = decode_token(settings.secret_key.get_secret_value(), token, "refresh")
    record = await session.get(RefreshToken, uuid.UUID(claims["jti"]))
    if record is None:
        raise Unauthorized("The refresh token is not recognised")
    return record


async def rotate(session: AsyncSession, settings: Settings, token: str) -> TokenPair:
    """Exchange a refresh token for a new pair; reuse of a spent token revokes its family."""
    record = await _current_refresh(session, settings, token)
    now = datetime.now(UTC)
    if record.revoked_at is not None:
        await session.execute(
            update(RefreshToken)
            .where(RefreshToken.family_id == record.family_id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        append_event(session, AUDIT, "token.reuse_detected", {"user_id": str(record.user_id)})
        await session.commit()
        raise Unauthorized("The refresh token was already used; please log in again")
    user = await session.get(User, record.user_id)
    if user is None or not user.is_active:
        raise Unauthorized("The account is not active")
    record.revoked_at = now
    return await issue_pair(session, settings, user, family_id=record.family_id)


async def logout(session: AsyncSession, settings: Settings, token: str, user: User) -> None:
    """Revoke the refresh token's whole family: that login ends on every device it reached."""
    record = await _current_refresh(session, settings, token)
    if record.user_id != user.id:
        raise Unauthorized("The refresh token belongs to another account")
    await session.execute(
        update(RefreshToken)
        .where(RefreshToken.family_id == record.family_id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )
    append_event(session, AUDIT, "user.logged_out", {"user_id": str(user.id)})
    await session.commit()


async def list_users(session: AsyncSession, limit: int, offset: int) -> list[User]:
    result = await session.scalars(
        select(User).order_by(User.created_at, User.id).limit(limit).offset(offset)
    )
    return list(result)


async def set_role(session: AsyncSession, actor: User, user_id: uuid.UUID, role: Role) -> User:
    """Change a user's role; recorded with who did it."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound("No user with this id")
    before = user.role
    user.role = role
    append_event(
        session,
        AUDIT,
        "user.role_changed",
        {"user_id": str(user.id), "actor_id": str(actor.id), "before": before, "after": role},
    )
    await session.commit()
    return user
