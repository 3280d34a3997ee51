"""Socket.IO: the event log pushed to browsers and apps over the standard socket.io protocol.

Clients connect to `/socket.io` (Engine.IO v4, so the stock JavaScript `socket.io-client`
works) with their JWT access token, as `io(url, {auth: {token}})` or in an
`Authorization: Bearer` header. They `join` rooms named after event-log topics (for example
`inventory:<product id>`) and are let in only when `core.stream.may_read` allows the topic, the
same rule as for Server-Sent Events. Each committed event of a joined topic arrives as a
Socket.IO event named after its type with `.` replaced by `_` (`inventory.updated` ->
`inventory_updated`); its data is the event's payload plus the event log's `id` and `topic`.

How an event reaches every client exactly once. The outbox dispatcher publishes each committed
event once to the real-time hub, and the hub (Redis pub/sub in production) hands it to every
instance. Each instance keeps one hub subscription per room that at least one of *its* clients
joined, and emits the event to that room with Socket.IO's default in-process manager, which
reaches only this instance's clients. We deliberately do not use `AsyncRedisManager`: the hub
already fans out across instances, so a Redis manager would be a second fan-out path (every
instance re-broadcasting to every instance, one copy per instance per client) or a second pub/sub
channel to run for nothing. The same code therefore runs on the embedded default (in-process hub)
and in production (Redis hub). The outbox delivers at least once (an event can be re-published
after a crash between publish and commit), so each room also drops event ids it has just
emitted.

Authentication is checked when a client connects, and the account is checked again on every
`join`. As with Server-Sent Events, an open connection keeps the rooms it joined after its token
expires; clients reconnect with a fresh token (pass `auth` as a callback in the JavaScript client
so each reconnect reads the current token).

Deployment: the long-polling transport (the JavaScript client's first step before it upgrades)
needs every request of a session to reach the same process. With several processes or
replicas, either make the load balancer sticky or have clients connect with
`transports: ["websocket"]`, which keeps the whole session on one connection.
"""

import asyncio
import contextlib
import uuid
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import socketio  # type: ignore[import-untyped]
import structlog
from prometheus_client import Counter, Gauge
from sqlalchemy.exc import SQLAlchemyError

from .auth.models import User
from .config import Settings
from .db import Database
from .errors import Unauthorized
from .realtime import Hub, Message, Subscription
from .security import decode_token
from .stream import may_read

log = structlog.get_logger(__name__)

CONNECTIONS = Gauge(
    "socketio_connections",
    "Socket.IO clients connected to this instance",
    multiprocess_mode="livesum",
)
EMITTED = Counter(
    "socketio_events_emitted_total", "Event-log entries emitted to Socket.IO rooms", ["type"]
)

MAX_ROOMS_PER_CLIENT = 50
MAX_ROOM_LENGTH = 200  # the longest topic the event log stores
CLOSE_SECONDS = 1.0  # per connection at shutdown, all closed at once
RECENT_IDS = 256  # per room: enough to absorb a re-published batch, bounded in memory
_MALFORMED = (
    'Send {"room": "<topic>"} with a topic of at most ' + str(MAX_ROOM_LENGTH) + " characters"
)


def event_name(event_type: str) -> str:
    """`inventory.updated` -> `inventory_updated`: JavaScript handlers read better without dots."""
    return event_type.replace(".", "_")


def event_data(message: Message) -> dict[str, Any]:
    """What a client receives: the payload, with the event log's `id` and `topic` added."""
    return {**message["payload"], "id": message["id"], "topic": message["topic"]}


def _token(environ: Mapping[str, Any], auth: object) -> str | None:
    """The access token from the `auth` payload, else from an `Authorization: Bearer` header."""
    if isinstance(auth, dict) and isinstance(auth.get("token"), str) and auth["token"]:
        return str(auth["token"])
    scheme, _, credentials = str(environ.get("HTTP_AUTHORIZATION", "")).partition(" ")
    if scheme.lower() == "bearer" and credentials.strip():
        return credentials.strip()
    return None


def _room(data: object) -> str | None:
    """The room named by a `join`/`leave` payload `{"room": "<topic>"}`, if well-formed."""
    if not isinstance(data, dict):
        return None
    room = data.get("room")
    if isinstance(room, str) and 0 < len(room) <= MAX_ROOM_LENGTH:
        return room
    return None


def _refusal(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


@dataclass
class _Room:
    """This instance's hub subscription for one room, and the task that emits what it receives."""

    stack: contextlib.AsyncExitStack
    task: asyncio.Task[None]
    members: set[str] = field(default_factory=set)


class SocketGateway:
    """The Socket.IO server of one app instance: authentication, rooms and delivery."""

    def __init__(self, settings: Settings, db: Database, hub: Hub) -> None:
        self.secret = settings.secret_key.get_secret_value()
        self.db = db
        self.hub = hub
        # Same origins as the HTTP CORS policy; none configured means same-origin only (None),
        # not Engine.IO's `[]`, which would switch its origin check off altogether.
        self.server = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=list(settings.cors_origins) or None,
            max_http_buffer_size=64 * 1024,  # clients only send small join/leave requests
            logger=False,
            engineio_logger=False,
        )
        self.asgi = socketio.ASGIApp(self.server, socketio_path=None)  # routed by the mount
        self._rooms: dict[str, _Room] = {}
        self._joined: dict[str, set[str]] = {}
        self._lock = asyncio.Lock()
        self._stopped = False
        self.server.on("connect", self._connect)
        self.server.on("disconnect", self._disconnect)
        self.server.on("join", self._join)
        self.server.on("leave", self._leave)

    async def _connect(self, sid: str, environ: dict[str, Any], auth: object) -> None:
        """Accept only the active holder of a valid access token; refusals say why."""
        token = _token(environ, auth)
        if token is None:
            raise socketio.exceptions.ConnectionRefusedError(
                'An access token is required: connect with auth {"token": "<access token>"}'
            )
        try:
            claims = decode_token(self.secret, token, "access")
            user_id = uuid.UUID(claims["sub"])
        except Unauthorized as exc:
            raise socketio.exceptions.ConnectionRefusedError(exc.detail) from exc
        except ValueError as exc:
            raise socketio.exceptions.ConnectionRefusedError("The token is not valid") from exc
        try:
            async with self.db.sessions() as session:
                user = await session.get(User, user_id)
        except SQLAlchemyError as exc:
            log.exception("socketio_connect_failed")
            raise socketio.exceptions.ConnectionRefusedError(
                "The service could not check the token; try again"
            ) from exc
        if user is None or not user.is_active:
            raise socketio.exceptions.ConnectionRefusedError("The account is not active")
        await self.server.save_session(sid, {"user_id": user_id})
        self._joined[sid] = set()
        CONNECTIONS.inc()

    async def _disconnect(self, sid: str, _reason: object = None) -> None:
        async with self._lock:
            for room in self._joined.pop(sid, set()):
                await self._release(room, sid)
        CONNECTIONS.dec()

    async def _join(self, sid: str, data: object = None) -> dict[str, Any]:
        """Join the room of a topic the user may read; the answer (ack) says whether it worked."""
        room = _room(data)
        if room is None:
            return _refusal(_MALFORMED)
        session = await self.server.get_session(sid)
        try:
            async with self.db.sessions() as db_session:
                user = await db_session.get(User, session["user_id"])
                if user is None or not user.is_active:
                    return _refusal("The account is not active")
                allowed = await may_read(db_session, user, room)
        except SQLAlchemyError:
            log.exception("socketio_join_failed", room=room)
            return _refusal("The room could not be joined; try again")
        if not allowed:
            return _refusal(f"You may not join room {room!r}")
        async with self._lock:
            joined = self._joined.get(sid)
            if joined is None:  # disconnected while the rule was checked
                return _refusal("Not connected")
            if room not in joined:
                if len(joined) >= MAX_ROOMS_PER_CLIENT:
                    return _refusal(f"At most {MAX_ROOMS_PER_CLIENT} rooms per connection")
                # Subscribed before the ack: every event committed after it reaches the client.
                await self._acquire(room, sid)
                joined.add(room)
                await self.server.enter_room(sid, room)
        return {"ok": True, "room": room}

    async def _leave(self, sid: str, data: object = None) -> dict[str, Any]:
        room = _room(data)
        if room is None:
            return _refusal(_MALFORMED)
        async with self._lock:
            joined = self._joined.get(sid, set())
            if room not in joined:
                return _refusal(f"Not in room {room!r}")
            joined.discard(room)
            await self.server.leave_room(sid, room)
            await self._release(room, sid)
        return {"ok": True, "room": room}

    async def _acquire(self, room: str, sid: str) -> None:
        """Add a member to a room, subscribing this instance to its topic for the first one."""
        state = self._rooms.get(room)
        if state is None:
            stack = contextlib.AsyncExitStack()
            subscription = await stack.enter_async_context(self.hub.subscribe([room]))
            relay = self._relay(room, subscription)
            task = asyncio.create_task(relay, name=f"socketio-room:{room}")
            state = self._rooms[room] = _Room(stack, task)
        state.members.add(sid)

    async def _release(self, room: str, sid: str) -> None:
        """Remove a member; the last one out ends this instance's subscription to the topic."""
        state = self._rooms.get(room)
        if state is None:
            return
        state.members.discard(sid)
        if not state.members:
            del self._rooms[room]
            await self._close(state)

    @staticmethod
    async def _close(state: _Room) -> None:
        state.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await state.task
        await state.stack.aclose()

    async def _relay(self, room: str, subscription: Subscription) -> None:
        """Emit each hub message of `room` to this instance's members of the room, once."""
        recent: deque[object] = deque(maxlen=RECENT_IDS)
        while True:
            message = await subscription.get()
            if subscription.overflowed:
                # The queue filled faster than it was emptied: some events were dropped.
                log.warning("socketio_room_overflowed", room=room)
                subscription.overflowed = False
            if message["id"] in recent:
                continue
            recent.append(message["id"])
            try:
                await self.server.emit(event_name(message["type"]), event_data(message), room=room)
            except Exception:  # one bad message must not end the room's delivery
                log.exception("socketio_emit_failed", room=room, id=message["id"])
                continue
            EMITTED.labels(message["type"]).inc()

    async def _close_connection(self, eio_sid: str) -> None:
        """Send one client Engine.IO's close (a reconnectable "transport close", unlike a
        Socket.IO disconnect). A client that vanished without saying so never takes the close,
        so waiting for it is bounded."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(CLOSE_SECONDS):
                await self.server.eio.disconnect(eio_sid)

    async def stop(self) -> None:
        """Close every connection (clients reconnect, to another instance if this one is gone),
        end the hub subscriptions and stop Engine.IO's background task. Safe to call twice."""
        if self._stopped:
            return
        self._stopped = True
        async with asyncio.TaskGroup() as group:
            for sid in list(self.server.eio.sockets):
                group.create_task(self._close_connection(sid))
        async with self._lock:
            rooms, self._rooms = list(self._rooms.values()), {}
            for state in rooms:
                await self._close(state)
        await self.server.shutdown()
