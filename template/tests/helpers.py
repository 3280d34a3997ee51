"""Small helpers shared by the test modules."""

import asyncio
import time
from collections.abc import Awaitable, Callable
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


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 10.0) -> None:
    """Wait until `check()` is true (for work done by the outbox dispatcher or a worker)."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)


async def login(client: AsyncClient, email: str, password: str = PASSWORD) -> dict[str, str]:
    response = await client.post("/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    body: dict[str, str] = response.json()
    return body
