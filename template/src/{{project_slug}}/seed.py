"""Demo data: an admin, a few members and the domain's records. Safe to run twice."""

import secrets

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from .core.auth.models import Role, User
from .core.config import Settings
from .core.db import Database
from .core.security import hash_password
from .registry import seed_domain

DEMO_MEMBERS = ("ada@example.com", "grace@example.com", "linus@example.com")


async def _ensure_user(
    session: AsyncSession, email: str, name: str, password: str, role: Role
) -> bool:
    if await session.scalar(select(User.id).where(User.email == email)) is not None:
        return False
    session.add(User(email=email, full_name=name, password_hash=hash_password(password), role=role))
    return True


async def run(settings: Settings, size: int, admin_email: str, admin_password: str | None) -> str:
    """Create what is missing; returns a report that includes any password it generated."""
    password = admin_password or secrets.token_urlsafe(12)
    db = Database(settings)
    try:
        async with db.sessions() as session:
            lines = []
            if await _ensure_user(session, admin_email.lower(), "Admin", password, Role.ADMIN):
                shown = password if admin_password is None else "(as given)"
                lines.append(f"admin {admin_email} created, password: {shown}")
            member_password = secrets.token_urlsafe(12)
            created = [
                email
                for email in DEMO_MEMBERS
                if await _ensure_user(
                    session, email, email.split("@")[0].title(), member_password, Role.MEMBER
                )
            ]
            if created:
                lines.append(f"members {', '.join(created)} created, password: {member_password}")
            await session.commit()
            lines.append(await seed_domain(session, size))
    finally:
        await db.dispose()
    return "\n".join(lines)
