"""Playback and queue commands (WS.md, client -> server). Each one: checks who may do it,
holds the session's row lock, changes the row and the queue, counts a revision, and queues the
new state for every socket after commit (playback:update). Callers pass validated data."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from library.models import Song
from listening_sessions import broadcast, sync
from listening_sessions.models import (
    MAX_QUEUE,
    ListeningSession,
    PlayedItem,
    QueueItem,
    SessionParticipant,
    SkipVote,
)
from listening_sessions.services.lifecycle import locked, touch
from musicapp.platform import switches
from musicapp.platform.errors import Conflict, InvalidInput, NotAllowed, NotFound

RESTART_WITHIN_S = 3.0  # prev within the first seconds of a song goes to the one before; later, restarts it
ENDED_SLACK_S = 2.0  # a report that the song ended is believed this close to its end

Command = Callable[[ListeningSession, User, dict[str, Any], datetime], None]


# --- who may do what ---------------------------------------------------------------------


def _is_present(session: ListeningSession, user: User) -> bool:
    return SessionParticipant.objects.present().filter(session=session, user=user).exists()


def _check_controller(session: ListeningSession, user: User) -> None:
    if session.host_id == user.pk or session.guests_can_control:
        return
    raise NotAllowed("Only the host controls playback in this session.")


def _check_host(session: ListeningSession, user: User, action: str) -> None:
    if session.host_id != user.pk:
        raise NotAllowed(f"Only the host can {action}.")


def _song(song_id: str) -> Song:
    song = Song.objects.filter(pk=song_id).first()
    if song is None:
        raise NotFound("No such song.")
    return song


def _clamp(session: ListeningSession, seconds: float) -> float:
    if session.current_song is None:
        return 0.0
    return min(max(0.0, seconds), session.current_song.duration)


# --- state changes, under the row lock ------------------------------------------------------


def _set_song(session: ListeningSession, song: Song | None, added_by_id: str | None, now: datetime) -> None:
    session.current_song, session.current_added_by_id = song, added_by_id
    session.position, session.position_set_at = 0.0, now
    session.track += 1  # a new song: votes and readiness start over
    if song is None:
        session.is_playing = False


def _present_ids(session: ListeningSession) -> list[str]:
    return SessionParticipant.objects.present().filter(session=session).user_ids()


def _schedule_start(session: ListeningSession, now: datetime, *, new_song: bool) -> None:
    """Start together: playing starts a margin ahead (every player hears of it first), and a new
    song waits up to SESSION_READY_CAP_S for the players that say `playback:ready`."""
    present = _present_ids(session)
    delay = sync.start_margin(session.pk, present)
    if new_song and sync.any_ready_capable(session.pk, present):
        delay = max(delay, settings.SESSION_READY_CAP_S)
    session.position_set_at = now + timedelta(seconds=delay)


def _queue(session: ListeningSession) -> list[QueueItem]:
    return list(QueueItem.objects.filter(session=session).order_by("position"))


def _fair_place(session: ListeningSession, user_id: str) -> int:
    """Round-robin: the user's n-th queued song goes after every song that is someone's n-th or
    earlier, so each person's first song plays before anyone's second."""
    seen: Counter[str | None] = Counter()
    place = 0
    rounds = []
    for item in _queue(session):
        rounds.append(seen[item.added_by_id])
        seen[item.added_by_id] += 1
    mine = seen[user_id]
    for index, round_ in enumerate(rounds):
        if round_ <= mine:
            place = index + 1
    return place


def _queue_insert(session: ListeningSession, song_id: str, added_by_id: str | None, at: int | None = None) -> None:
    size = QueueItem.objects.filter(session=session).count()
    if size >= MAX_QUEUE:
        raise Conflict(f"The queue holds at most {MAX_QUEUE} songs.")
    at = size if at is None else at
    QueueItem.objects.filter(session=session, position__gte=at).update(position=F("position") + 1)
    QueueItem.objects.create(session=session, song_id=song_id, added_by_id=added_by_id, position=at)


def _queue_take(session: ListeningSession, index: int) -> QueueItem:
    item = QueueItem.objects.get(session=session, position=index)
    item.delete()
    QueueItem.objects.filter(session=session, position__gt=index).update(position=F("position") - 1)
    return item


def _advance(session: ListeningSession, now: datetime) -> None:
    """On to the next song: the current one goes to the history (and, looping all, to the end
    of the queue); the next comes from the queue's front, or anywhere in it when shuffling."""
    if session.current_song_id:
        PlayedItem.objects.create(
            session=session, song_id=session.current_song_id, added_by_id=session.current_added_by_id
        )
        if session.loop == ListeningSession.Loop.ALL:
            _queue_insert(session, session.current_song_id, session.current_added_by_id)
    size = QueueItem.objects.filter(session=session).count()
    if size == 0:
        _set_song(session, None, None, now)
        return
    item = _queue_take(session, random.randrange(size) if session.shuffle else 0)
    _set_song(session, item.song, item.added_by_id, now)


def _play(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_controller(session, user)
    if data.get("song_id"):
        _set_song(session, _song(data["song_id"]), user.pk, now)
    elif session.current_song_id is None:
        _advance(session, now)
        if session.current_song_id is None:
            raise Conflict("Nothing to play: add a song to the queue first.")
    elif session.start_at(now) is None:  # resume (a start still pending stays as scheduled)
        session.position, session.position_set_at = session.position_at(now), now
    if "current_time" in data:
        session.position = _clamp(session, data["current_time"])
    session.is_playing = True


def _pause(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_controller(session, user)
    session.position, session.position_set_at, session.is_playing = _clamp(session, data["current_time"]), now, False


def _seek(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_controller(session, user)
    if session.current_song_id is None:
        raise Conflict("Nothing is playing.")
    session.position = _clamp(session, data["current_time"])
    if session.start_at(now) is None:  # a start still pending starts from there, as scheduled
        session.position_set_at = now


def _next(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_controller(session, user)
    _advance(session, now)


def _ended(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    """A client heard the song end. Any participant may say so; only a report about the song
    playing now, near its end, moves on (every client reports it: the first one counts)."""
    song = session.current_song
    if song is None or song.pk != data["song_id"] or not session.is_playing:
        raise Conflict("That song is not the one playing any more.")
    if session.position_at(now) < song.duration - ENDED_SLACK_S:
        raise Conflict("That song has not ended yet.")
    if session.loop == ListeningSession.Loop.ONE:
        session.position, session.position_set_at = 0.0, now
    else:
        _advance(session, now)


def _prev(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_controller(session, user)
    last = PlayedItem.objects.filter(session=session).order_by("-played_at", "-id").first()
    if session.position_at(now) > RESTART_WITHIN_S or last is None:
        session.position, session.position_set_at = 0.0, now
        return
    if session.current_song_id:
        _queue_insert(session, session.current_song_id, session.current_added_by_id, at=0)
    last.delete()
    _set_song(session, last.song, last.added_by_id, now)


def _queue_add(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    song = _song(data["song_id"])
    limit = session.queue_limit
    mine = QueueItem.objects.filter(session=session, added_by=user)
    if limit is not None and session.host_id != user.pk and mine.count() >= limit:
        raise Conflict(f"You have {limit} songs in the queue already: wait for one to play.")
    at = _fair_place(session, user.pk) if session.fair_queue else None
    _queue_insert(session, song.pk, user.pk, at=at)


def _queue_remove(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    item = QueueItem.objects.filter(session=session, position=data["index"]).first()
    if item is None:
        raise NotFound("There is no song at that place in the queue.")
    if session.host_id != user.pk and item.added_by_id != user.pk:
        raise NotAllowed("Only the host, or whoever added it, can take a song off the queue.")
    _queue_take(session, data["index"])


def _queue_reorder(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    """A new order for the queue: the same songs (as a multiset), or a conflict (stale view)."""
    _check_host(session, user, "reorder the queue")
    items = _queue(session)
    wanted = data["queue_ids"]
    if sorted(wanted) != sorted(item.song_id for item in items):
        raise Conflict("queueIds must list exactly the current queue: it changed meanwhile.")
    pool: dict[str, list[QueueItem]] = {}
    for item in items:
        pool.setdefault(item.song_id, []).append(item)
    reordered = [pool[song_id].pop(0) for song_id in wanted]
    for position, item in enumerate(reordered):
        item.position = position
    QueueItem.objects.bulk_update(reordered, ["position"])


def _shuffle(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_host(session, user, "turn shuffle on or off")
    session.shuffle = data["shuffle"]


def _loop(session: ListeningSession, user: User, data: dict[str, Any], now: datetime) -> None:
    _check_host(session, user, "change the loop mode")
    session.loop = data["loop"]


COMMANDS: dict[str, Command] = {
    "playback:play": _play,
    "playback:pause": _pause,
    "playback:seek": _seek,
    "playback:next": _next,
    "playback:prev": _prev,
    "playback:ended": _ended,
    "playback:shuffle": _shuffle,
    "playback:loop": _loop,
    "queue:add": _queue_add,
    "queue:remove": _queue_remove,
    "queue:reorder": _queue_reorder,
}


def command_apply(*, session_id: str, user: User, kind: str, data: dict[str, Any]) -> None:
    """Apply a validated playback or queue command; playback:update goes out after commit.
    Holds the session's row lock. Refused while the service is read-only (maintenance)."""
    switches.check_writable()
    apply = COMMANDS.get(kind)
    if apply is None:
        raise InvalidInput(f"Unknown command {kind!r}.")
    with transaction.atomic():
        session = _locked_present(session_id, user)
        now = timezone.now()
        track, was_playing = session.track, session.is_playing
        apply(session, user, data, now)
        _changed(session, user, now, track=track, was_playing=was_playing)


def _locked_present(session_id: str, user: User) -> ListeningSession:
    session = locked(session_id)
    if not session.is_active:
        raise NotFound("This session has ended.")
    if not _is_present(session, user):
        raise NotAllowed("Join the session first.")
    return session


def _changed(session: ListeningSession, user: User | None, now: datetime, *, track: int, was_playing: bool) -> None:
    """After a command changed the session (under its lock): schedule a start, count the
    revision, save, and tell every socket after commit."""
    new_song = session.track != track
    if session.is_playing and (new_song or not was_playing):
        _schedule_start(session, now, new_song=new_song)
    session.revision += 1
    touch(session)
    session.save()
    update = broadcast.playback(session, by=user, now=now)
    broadcast.send_on_commit(session.pk, "playback.update", data=update)


def playback_ready(*, session_id: str, user: User, song_id: str) -> None:
    """A player has the song buffered. Once every player that says ready (and is present) is
    ready for the current song, a start still waiting for them moves up to the margin."""
    switches.check_writable()
    session = ListeningSession.objects.filter(pk=session_id, is_active=True).first()
    if session is None:
        raise NotFound("This session has ended.")
    if not _is_present(session, user):
        raise NotAllowed("Join the session first.")
    if session.current_song_id != song_id:
        sync.mark_ready(session_id, None, user.pk)  # a song no longer current: nothing waits for it
        return
    sync.mark_ready(session_id, session.track, user.pk)
    if sync.waiting_for(session_id, session.track, _present_ids(session)):
        return
    with transaction.atomic():
        session = locked(session_id)
        now = timezone.now()
        start = session.start_at(now)
        if start is None or session.current_song_id != song_id:
            return
        sooner = now + timedelta(seconds=sync.start_margin(session_id, _present_ids(session)))
        if sooner >= start:
            return
        session.position_set_at = sooner
        session.revision += 1
        session.save(update_fields=["position_set_at", "revision", "updated_at"])
        broadcast.send_on_commit(session.pk, "playback.update", data=broadcast.playback(session, now=now))


def votes_needed(session: ListeningSession, present: int) -> int:
    """More than skip_share of those present (a majority by default)."""
    return math.floor(present * session.skip_share) + 1


def vote_skip(*, session_id: str, user: User, song_id: str | None = None) -> None:
    """A participant votes to skip the current song (once per user and song, however many tabs
    or processes send it); once enough have, it is skipped, whoever controls playback."""
    switches.check_writable()
    with transaction.atomic():
        session = _locked_present(session_id, user)
        if session.current_song_id is None:
            raise Conflict("Nothing is playing.")
        if song_id is not None and song_id != session.current_song_id:
            raise Conflict("That song is not the one playing any more.")
        _vote, created = SkipVote.objects.get_or_create(session=session, track=session.track, user=user)
        if not created:
            return  # counted already (another tab, another process): nothing changes
        present = _present_ids(session)
        votes = SkipVote.objects.filter(session=session, track=session.track, user_id__in=present).count()
        needed = votes_needed(session, len(present))
        song, skipped = session.current_song_id, votes >= needed
        tally = {"songId": song, "votes": votes, "needed": needed, "skipped": skipped}
        broadcast.send_on_commit(session.pk, "vote.update", data=tally)
        if skipped:
            now = timezone.now()
            track, was_playing = session.track, session.is_playing
            _advance(session, now)
            _changed(session, user, now, track=track, was_playing=was_playing)
