"""Micro-cache: anonymous GET responses kept in this process for the second they allow.

A reverse proxy's micro-cache, inside the app. A route opts in by answering 200 with
`Cache-Control: public, max-age=N`; the same anonymous request (same path and query string)
is then answered from memory for N seconds without routing, dependency resolution or a
database session, while the middleware outside this one (request id, metrics and access log,
security headers, CORS, rate limits) still runs for every request. Requests with credentials
or cookies, and responses that set cookies, are never stored.

Staleness is bounded by max-age across instances; on the instance that makes a change, the
code that invalidates the data also calls `ResponseStore.purge()`, so its own next read is
fresh. Streaming responses (several body messages) are passed through, never stored.
"""

import time
from collections.abc import Iterable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

MAX_ENTRIES = 10_000
MAX_BODY_BYTES = 256 * 1024
_PRIVATE_HEADERS = frozenset({b"authorization", b"cookie"})


class Entry:
    """A stored response: what to send again, and until when."""

    __slots__ = ("body", "expires", "headers", "route")

    def __init__(
        self, headers: list[tuple[bytes, bytes]], body: bytes, expires: float, route: object
    ) -> None:
        self.headers = headers
        self.body = body
        self.expires = expires
        self.route = route


def max_age(headers: Iterable[tuple[bytes, bytes]]) -> int:
    """Seconds a response may be shared for (0: not at all), from its Cache-Control."""
    seconds = 0
    for name, value in headers:
        if name == b"set-cookie":
            return 0
        if name == b"cache-control":
            directives = [d.strip() for d in value.lower().split(b",")]
            ages = [d[8:] for d in directives if d.startswith(b"max-age=")]
            if b"public" in directives and ages and ages[0].isdigit():
                seconds = int(ages[0])
    return seconds


class ResponseStore:
    """The stored responses of one app, shared by its middleware and the code that purges."""

    def __init__(self, max_entries: int = MAX_ENTRIES) -> None:
        self.max_entries = max_entries
        self.entries: dict[tuple[str, bytes], Entry] = {}
        # Query strings stored per path, so purging a path (on every stock change of a
        # product) touches that path's entries only, not the whole store.
        self._queries: dict[str, set[bytes]] = {}

    def get(self, key: tuple[str, bytes]) -> Entry | None:
        entry = self.entries.get(key)
        return entry if entry is not None and entry.expires > time.monotonic() else None

    def put(self, key: tuple[str, bytes], entry: Entry) -> None:
        if len(self.entries) >= self.max_entries and key not in self.entries:
            self._evict()
        self.entries[key] = entry
        self._queries.setdefault(key[0], set()).add(key[1])

    def purge(self, path: str | None = None) -> None:
        """Forget every stored response of `path` (all paths when None)."""
        if path is None:
            self.entries.clear()
            self._queries.clear()
            return
        for query in self._queries.pop(path, ()):
            self.entries.pop((path, query), None)

    def _drop(self, key: tuple[str, bytes]) -> None:
        del self.entries[key]
        queries = self._queries.get(key[0])
        if queries is not None:
            queries.discard(key[1])
            if not queries:
                del self._queries[key[0]]

    def _evict(self) -> None:
        now = time.monotonic()
        for stale in [k for k, e in self.entries.items() if e.expires <= now]:
            self._drop(stale)
        while len(self.entries) >= self.max_entries:
            self._drop(next(iter(self.entries)))  # the oldest stored


class MicroCache:
    """ASGI middleware answering repeated anonymous GETs from a `ResponseStore`."""

    def __init__(self, app: ASGIApp, store: ResponseStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or _private(scope):
            await self.app(scope, receive, send)
            return
        key = (scope["path"], scope["query_string"])
        entry = self.store.get(key)
        if entry is not None:
            scope["route"] = entry.route  # metrics and logs name the route as on a miss
            await send({"type": "http.response.start", "status": 200, "headers": entry.headers})
            await send({"type": "http.response.body", "body": entry.body})
            return
        await self._fill(key, scope, receive, send)

    async def _fill(
        self, key: tuple[str, bytes], scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Pass the request on, keeping the response if it is shareable and small."""
        headers: list[tuple[bytes, bytes]] = []
        chunks: list[bytes] = []
        keep = False

        async def capture(message: Message) -> None:
            nonlocal headers, keep
            if message["type"] == "http.response.start":
                # A copy: the middleware outside adds its headers to this very message.
                headers = list(message.get("headers", ()))
                keep = message["status"] == 200 and max_age(headers) > 0
            elif message["type"] == "http.response.body" and keep:
                chunks.append(message.get("body", b""))
                keep = not message.get("more_body") and sum(map(len, chunks)) <= MAX_BODY_BYTES
            await send(message)

        await self.app(scope, receive, capture)
        if keep:
            expires = time.monotonic() + max_age(headers)
            self.store.put(key, Entry(headers, b"".join(chunks), expires, scope.get("route")))


def _private(scope: Scope) -> bool:
    return any(name in _PRIVATE_HEADERS for name, _ in scope["headers"])
