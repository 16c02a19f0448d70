"""ws(s)://<host>/ws/session/<code>/?token=... : a listening session, live (WS.md).

Thin: a frame is parsed (musicapp.platform.websocket.JsonConsumer answers malformed ones),
checked by its input serializer, handed to a service, and what the service broadcasts after
commit reaches every socket of the session, on whichever server process it lives.

Close codes: 4401 no valid token, 4403 origin not allowed, 4404 no such active session,
4409 the session is full, 4410 the session ended, 1000 the user left it (REST), 4403 the host
removed them (and they may not come back without a new invite), 1013 try again later (read-only
maintenance, or too many connects at once in this process: websocket.ConnectAdmission).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from typing import Any

from django.conf import settings
from djangorestframework_camel_case.util import underscoreize
from rest_framework import serializers
from rest_framework.exceptions import ValidationError

from listening_sessions import broadcast, presence, services
from listening_sessions import serializers as inputs
from listening_sessions.models import ListeningSession
from musicapp.platform import metrics
from musicapp.platform.errors import Conflict, InvalidInput, Maintenance, NotAllowed, NotFound, RateLimited
from musicapp.platform.handlers import flatten_errors
from musicapp.platform.websocket import JsonConsumer, origin_allowed, socket_db

INPUTS: dict[str, type[serializers.Serializer]] = {
    "playback:play": inputs.PlayInput,
    "playback:pause": inputs.PositionInput,
    "playback:seek": inputs.PositionInput,
    "playback:next": inputs.NoInput,
    "playback:prev": inputs.NoInput,
    "playback:ended": inputs.EndedInput,
    "playback:shuffle": inputs.ShuffleInput,
    "playback:loop": inputs.LoopInput,
    "queue:add": inputs.QueueAddInput,
    "queue:remove": inputs.QueueRemoveInput,
    "queue:reorder": inputs.QueueReorderInput,
    "chat:message": inputs.ChatInput,
    "time:ping": inputs.PingInput,
    "playback:ready": inputs.ReadyInput,
    "sync:report": inputs.SyncReportInput,
    "vote:skip": inputs.VoteSkipInput,
    "reaction:add": inputs.ReactionInput,
    "participant:remove": inputs.RemoveInput,
}


def _validated(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    serializer = INPUTS[kind](data=underscoreize(data))
    try:
        serializer.is_valid(raise_exception=True)
    except ValidationError as exc:
        errors = flatten_errors(exc.detail)
        field, texts = next(iter(errors.items()))
        raise InvalidInput(f"{field}: {texts[0]}", errors=errors) from exc
    return dict(serializer.validated_data)


@socket_db
def _join(code: str, user: Any) -> tuple[str | None, int | None]:
    """Connecting joins: (session id, None), or (None, the refusal's close code)."""
    try:
        session, _joined = services.session_join(code=code, user=user)
    except NotFound:
        return None, 4404
    except Conflict:
        return None, 4409
    except NotAllowed:
        return None, 4403  # the host removed them
    except Maintenance:
        return None, 1013  # RFC 6455 "try again later": read-only maintenance
    return session.pk, None


@socket_db
def _alive_with_state(session_id: str, user_id: str, channel_name: str) -> dict[str, Any]:
    """The socket marked present, and session:state: one trip to the sockets' threads."""
    presence.socket_alive(session_id, user_id, channel_name)
    return _state(session_id, user_id)


def _state(session_id: str, user_id: str) -> dict[str, Any]:
    """session:state; the host's also says who is out of step (`sync`)."""
    from listening_sessions.serializers import SessionSerializer
    from listening_sessions.services.lifecycle import camelized

    session = ListeningSession.objects.for_api().get(pk=session_id)
    state = camelized(SessionSerializer(session).data)
    if session.host_id == user_id:
        state["sync"] = services.sync_status(session, [p["id"] for p in state["participants"]])
    return state


class Throttle:
    """A token bucket per socket: `rate` frames a second, bursts of twice that."""

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, rate * 2
        self.tokens, self.at = self.capacity, time.monotonic()

    def allow(self) -> bool:
        now = time.monotonic()
        self.tokens = min(self.capacity, self.tokens + (now - self.at) * self.rate)
        self.at = now
        if self.tokens < 1:
            return False
        self.tokens -= 1
        return True


class Heartbeat:
    """The process's open session sockets, their presence renewed together every HEARTBEAT_S by
    one task, in one Redis round trip. (A task per socket, each with its own thread hop and round
    trip, was 333 calls a second per process at 10,000 sockets, queued on the sockets' database
    threads in front of the hosts' commands.)"""

    def __init__(self) -> None:
        self.sockets: dict[str, tuple[str, str]] = {}  # channel name -> (session id, user id)
        self.task: asyncio.Task | None = None

    def add(self, channel_name: str, session_id: str, user_id: str) -> None:
        self.sockets[channel_name] = (session_id, user_id)
        loop = asyncio.get_running_loop()
        if self.task is None or self.task.done() or self.task.get_loop() is not loop:
            self.task = loop.create_task(self._beat())

    def discard(self, channel_name: str) -> None:
        self.sockets.pop(channel_name, None)

    async def _beat(self) -> None:
        while self.sockets:
            await asyncio.sleep(settings.SESSION_HEARTBEAT_S)
            alive = [(session_id, user_id, channel) for channel, (session_id, user_id) in self.sockets.items()]
            with contextlib.suppress(Exception):  # Redis away a moment: the next beat renews
                await socket_db(presence.sockets_alive)(alive)


heartbeat = Heartbeat()


class SessionConsumer(JsonConsumer):
    session_id = ""  # set once joined

    async def connect(self) -> None:
        self.code = self.scope["url_route"]["kwargs"]["code"].upper()
        self.user = self.scope["user"]
        self.throttle = Throttle(settings.SESSION_FRAMES_PER_S)
        if not origin_allowed(self.scope):
            return await self.refuse(4403)
        if not self.user.is_authenticated:
            return await self.refuse(4401)
        session_id, refusal = await _join(self.code, self.user)
        if refusal or session_id is None:
            return await self.refuse(refusal or 4404)
        self.session_id = session_id
        # In the groups before the state is read: no broadcast can fall between the two. The
        # state is read before accepting, while the connect holds its slot (ConnectAdmission).
        await self.join(broadcast.group_name(session_id))
        await self.join(broadcast.user_group_name(session_id, self.user.pk))
        state = await _alive_with_state(session_id, self.user.pk, self.channel_name)
        await self.accept()
        await self.send_json({"type": "session:state", "data": state})
        heartbeat.add(self.channel_name, session_id, self.user.pk)

    async def disconnect(self, code: int) -> None:
        heartbeat.discard(self.channel_name)
        if self.session_id:
            session_id, user_id = self.session_id, self.user.pk
            with contextlib.suppress(Exception):  # if Redis is away, the socket simply expires
                await socket_db(presence.socket_closed)(session_id, user_id, self.channel_name)
            asyncio.get_running_loop().create_task(_leave_after_grace(session_id))
        await super().disconnect(code)

    async def command(self, kind: str, data: dict[str, Any]) -> None:
        if not self.throttle.allow():
            raise RateLimited(1, "Too many frames; slow down.")
        if kind not in INPUTS:
            return await self.send_error("unknown_type", f"Unknown frame type {kind!r}.")
        checked = _validated(kind, data)
        if kind == "time:ping":
            pong = {"clientTime": checked["client_time"], "serverTime": round(time.time(), 3)}
            return await self.send_json({"type": "time:pong", "data": pong})
        handler = PARTY.get(kind)
        if handler is not None:
            return await handler(self, checked)
        await socket_db(services.command_apply)(session_id=self.session_id, user=self.user, kind=kind, data=checked)

    async def _chat(self, checked: dict[str, Any]) -> None:
        await socket_db(services.chat_send)(session_id=self.session_id, user=self.user, text=checked["text"])

    async def _ready(self, checked: dict[str, Any]) -> None:
        await socket_db(services.playback_ready)(session_id=self.session_id, user=self.user, song_id=checked["song_id"])

    async def _sync_report(self, checked: dict[str, Any]) -> None:
        resync = await socket_db(services.sync_report)(session_id=self.session_id, user=self.user, **checked)
        if resync is not None:  # this socket alone is out of step
            await self.send_json({"type": "playback:update", "data": resync})

    async def _vote_skip(self, checked: dict[str, Any]) -> None:
        await socket_db(services.vote_skip)(session_id=self.session_id, user=self.user, **checked)

    async def _reaction(self, checked: dict[str, Any]) -> None:
        await socket_db(services.reaction_add)(session_id=self.session_id, user=self.user, emoji=checked["emoji"])

    async def _remove(self, checked: dict[str, Any]) -> None:
        await socket_db(services.participant_remove)(
            session_id=self.session_id, user=self.user, user_id=checked["user_id"]
        )

    # --- what the session's group hears (broadcast.send_on_commit) ---------------------------

    async def playback_update(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "playback:update", "data": event["data"]})

    async def participant_joined(self, event: dict[str, Any]) -> None:
        data = {"user": event["user"], "participantCount": event["participant_count"]}
        await self.send_json({"type": "participant:joined", "data": data})

    async def participant_left(self, event: dict[str, Any]) -> None:
        data = {"user": event["user"], "participantCount": event["participant_count"]}
        await self.send_json({"type": "participant:left", "data": data})

    async def participant_removed(self, event: dict[str, Any]) -> None:
        if event["user_id"] == self.user.pk:
            await self.close(code=event.get("close_code", 1000))  # 1000 left (REST), 4403 removed

    async def vote_update(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "vote:update", "data": event["data"]})

    async def reaction_added(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "reaction:added", "data": event["data"]})

    async def sync_status(self, event: dict[str, Any]) -> None:  # sent to the host's sockets alone
        await self.send_json({"type": "sync:status", "data": event["data"]})

    async def host_changed(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "host:changed", "data": {"host": event["host"]}})

    async def chat_message(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "chat:message", "data": event["data"]})

    async def chat_deleted(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "chat:deleted", "data": {"id": event["message_id"]}})

    async def session_state(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "session:state", "data": event["session"]})

    async def session_ended(self, event: dict[str, Any]) -> None:
        metrics.forget_session(self.session_id)  # this process's sync series of the session
        await self.send_json({"type": "session:ended", "data": {"reason": event["reason"]}})
        await self.close(code=4410)


async def _leave_after_grace(session_id: str) -> None:
    """This process's own sweep, a moment after a socket closed (the scheduled sweep is the net)."""
    await asyncio.sleep(settings.SESSION_LEAVE_GRACE_S + 0.5)
    with contextlib.suppress(Exception):
        for user_id in await socket_db(presence.sweep)(session_id):
            await socket_db(services.participant_gone)(session_id=session_id, user_id=user_id)


# Frames with a handler of their own (the rest are playback and queue commands).
PARTY = {
    "chat:message": SessionConsumer._chat,
    "playback:ready": SessionConsumer._ready,
    "sync:report": SessionConsumer._sync_report,
    "vote:skip": SessionConsumer._vote_skip,
    "reaction:add": SessionConsumer._reaction,
    "participant:remove": SessionConsumer._remove,
}
