"""Small helpers shared by the test modules."""

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from httpx import AsyncClient

PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class Account:
    """A registered user and the headers that authenticate as them."""

    id: str
    email: str
    headers: dict[str, str]
    refresh_token: str


async def eventually(check: Callable[[], Awaitable[bool]], within: float = 10.0) -> None:
    """Wait until `check()` is true (for work done by the outbox dispatcher or a worker)."""
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.05)


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body


@dataclass(frozen=True)
class Event:
    """One Server-Sent Event as a client sees it."""

    id: str
    event: str
    data: str


async def read_events(lines: AsyncIterator[str], count: int, within: float = 10.0) -> list[Event]:
    """Parse `count` events from an SSE response's lines (comments and pings skipped)."""
    events: list[Event] = []
    fields: dict[str, str] = {}
    async with asyncio.timeout(within):
        async for line in lines:
            if not line:
                if "data" in fields:
                    event = Event(fields.get("id", ""), fields.get("event", ""), fields["data"])
                    events.append(event)
                    if len(events) == count:
                        return events
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.removeprefix(" ")
    return events
