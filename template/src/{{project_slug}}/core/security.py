"""Password hashing (argon2id) and signed tokens (JWT, HS256)."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import Unauthorized

TokenType = Literal["access", "refresh"]
_hasher = PasswordHasher()
ALGORITHM = "HS256"


def hash_password(password: str) -> str:
    """argon2id with the library's current recommended parameters."""
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    """Constant-time check; False for a wrong password or an unreadable hash."""
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    return _hasher.check_needs_rehash(password_hash)


def issue_token(
    secret: str,
    kind: TokenType,
    subject: str,
    ttl_seconds: int,
    **claims: Any,
) -> tuple[str, uuid.UUID, datetime]:
    """Sign a token; returns it with its id (`jti`) and expiry."""
    now = datetime.now(UTC)
    expires = now + timedelta(seconds=ttl_seconds)
    token_id = uuid.uuid4()
    payload = {"sub": subject, "typ": kind, "jti": str(token_id), "iat": now, "exp": expires}
    return jwt.encode({**payload, **claims}, secret, algorithm=ALGORITHM), token_id, expires


def decode_token(secret: str, token: str, kind: TokenType) -> dict[str, Any]:
    """Verify signature, expiry and type; any failure is a 401."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["exp", "sub", "jti"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise Unauthorized("The token has expired") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized("The token is not valid") from exc
    if claims.get("typ") != kind:
        raise Unauthorized(f"An {kind} token is required")
    return claims
