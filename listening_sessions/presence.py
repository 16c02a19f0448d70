"""Who has a socket open in a session, across server processes (Redis).

Each socket is a member `<user id>|<channel name>` of a sorted set per session, scored with the
time it is alive until; every HEARTBEAT_S each server process renews all of its sockets at once
(sockets_alive: one round trip). A user is present while one of their
sockets is alive: two tabs are one participant. When a user's last socket closes, they are
counted gone only after LEAVE_GRACE_S (a reload, or a server restart that reconnects them
elsewhere, must not make them leave and rejoin, nor hand the host on); a socket that vanished
without a close (its process killed) stops renewing and expires. The checks are Lua scripts, so
two processes deciding at once cannot both see "last".
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable

from django.conf import settings
from django_redis import get_redis_connection  # type: ignore[import-untyped]

ALIVE = """
local now = tonumber(ARGV[1])
local prefix = ARGV[2]
local alive = 0
for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')) do
  if string.sub(member, 1, string.len(prefix)) == prefix then alive = alive + 1 end
end
return alive
"""

SWEEP = """
local now = tonumber(ARGV[1])
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)
if #expired > 0 then redis.call('ZREM', KEYS[1], unpack(expired)) end
return expired
"""


def _key(session_id: str) -> str:
    return f"musicapp:sessions:presence:{session_id}"


def _member(user_id: str, channel_name: str) -> str:
    return f"{user_id}|{channel_name}"


def _redis():
    return get_redis_connection("default")


def socket_alive(session_id: str, user_id: str, channel_name: str) -> None:
    """A socket opened: alive for PRESENCE_TTL_S, then renewed by its process's heartbeat."""
    sockets_alive([(session_id, user_id, channel_name)])


def sockets_alive(sockets: Iterable[tuple[str, str, str]]) -> None:
    """Many sockets, as (session id, user id, channel name), renew at once: one round trip."""
    until = time.time() + settings.SESSION_PRESENCE_TTL_S
    members: dict[str, dict[str, float]] = defaultdict(dict)
    for session_id, user_id, channel_name in sockets:
        members[_key(session_id)][_member(user_id, channel_name)] = until
    if not members:
        return
    pipe = _redis().pipeline(transaction=False)
    for key, scores in members.items():
        pipe.zadd(key, scores)
        pipe.expire(key, 24 * 3600)
    pipe.execute()


def socket_closed(session_id: str, user_id: str, channel_name: str) -> None:
    """A socket closed: it still counts for LEAVE_GRACE_S (a reload comes straight back), then
    a sweep takes it. Even if this process dies meanwhile, any sweep finds it expired."""
    _redis().zadd(_key(session_id), {_member(user_id, channel_name): time.time() + settings.SESSION_LEAVE_GRACE_S})


def user_sockets(session_id: str, user_id: str) -> int:
    """How many of the user's sockets in the session are alive now."""
    return int(_redis().eval(ALIVE, 1, _key(session_id), time.time(), f"{user_id}|"))


def sweep(session_id: str) -> set[str]:
    """Drop expired sockets; returns the users they belonged to who have no socket alive left."""
    expired = _redis().eval(SWEEP, 1, _key(session_id), time.time())
    users = {member.decode().split("|", 1)[0] for member in expired}
    return {user_id for user_id in users if user_sockets(session_id, user_id) == 0}
