"""A session's life: created with a join code, joined and left, its host handed on, ended by
the host, by staff or by expiry. Every change holds the session's row lock."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from listening_sessions import broadcast, sync
from listening_sessions.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    MAX_HOSTED_ACTIVE,
    MAX_PARTICIPANTS,
    ListeningSession,
    PlayedItem,
    SessionParticipant,
    SkipVote,
)
from musicapp.platform import switches
from musicapp.platform.errors import Conflict, InvalidInput, NotAllowed, NotFound

ENDED = "This session has ended."


def _new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def expiry_from_now() -> timedelta:
    return timedelta(hours=settings.SESSION_IDLE_HOURS)


def touch(session: ListeningSession) -> None:
    """Activity: the session lives SESSION_IDLE_HOURS past it (call under the row lock)."""
    session.expires_at = timezone.now() + expiry_from_now()


def locked(session_id: str) -> ListeningSession:
    """The session, row-locked for this transaction."""
    return ListeningSession.objects.select_for_update().get(pk=session_id)


def active_locked(code: str) -> ListeningSession:
    session = ListeningSession.objects.select_for_update().active().filter(code=code.upper()).first()
    if session is None:
        raise NotFound("No such session, or it has ended.")
    return session


def session_create(*, host: User, name: str = "") -> ListeningSession:
    """A new session with a fresh code (unique among active ones), its host its first participant."""
    with transaction.atomic():
        # Lock the host's row: two creates at once cannot both pass the limit below.
        User.objects.select_for_update().filter(pk=host.pk).first()
        if ListeningSession.objects.active().filter(host=host).count() >= MAX_HOSTED_ACTIVE:
            raise Conflict(f"You host {MAX_HOSTED_ACTIVE} active sessions already; end one first.")
        for _ in range(10):
            try:
                with transaction.atomic():
                    session = ListeningSession.objects.create(
                        code=_new_code(), name=name, host=host, expires_at=timezone.now() + expiry_from_now()
                    )
                break
            except IntegrityError:  # the code is taken by an active session: draw again
                continue
        else:
            raise Conflict("Could not find a free session code; try again.")
        SessionParticipant.objects.create(session=session, user=host)
    return session


def session_join(*, code: str, user: User) -> tuple[ListeningSession, bool]:
    """Join (or rejoin) an active session; returns it and whether the user was not in it
    already. At most MAX_PARTICIPANTS at once (409 past that)."""
    # Someone present coming back (a reload, a second tab, every client of a restarted server)
    # changes nothing: one read, no row lock. Fifty rejoins of one session used to queue on its
    # lock one after another (the join storm, docs/RELIABILITY.md).
    present = (
        SessionParticipant.objects.present()
        .filter(session__code=code.upper(), session__is_active=True, user=user, removed_at__isnull=True)
        .select_related("session")
        .first()
    )
    if present is not None:
        return present.session, False
    with transaction.atomic():
        session = active_locked(code)
        return session, _join(session, user)


REMOVED = "The host removed you from this session; ask them for a new invite."


def _join(session: ListeningSession, user: User) -> bool:
    participant = SessionParticipant.objects.filter(session=session, user=user).first()
    if participant is not None and participant.removed_at is not None:
        raise NotAllowed(REMOVED)
    if participant is not None and participant.left_at is None:
        return False
    switches.check_writable()  # in maintenance, those present stay; nobody new comes in
    if SessionParticipant.objects.present().filter(session=session).count() >= MAX_PARTICIPANTS:
        raise Conflict(f"This session is full ({MAX_PARTICIPANTS} people).")
    if participant is None:
        SessionParticipant.objects.create(session=session, user=user)
    else:
        participant.joined_at, participant.left_at = timezone.now(), None
        participant.save(update_fields=["joined_at", "left_at", "updated_at"])
    touch(session)
    session.save(update_fields=["expires_at", "updated_at"])
    count = SessionParticipant.objects.present().filter(session=session).count()
    broadcast.send_on_commit(
        session.pk, "participant.joined", user=broadcast.public_user(user), participant_count=count
    )
    return True


def session_leave(*, code: str, user: User) -> None:
    """Leave an active session (REST): the user's sockets close too."""
    with transaction.atomic():
        session = active_locked(code)
        if not _leave(session, user):
            raise NotFound("You are not in this session.")
        broadcast.send_on_commit(session.pk, "participant.removed", user_id=user.pk)


def participant_gone(*, session_id: str, user_id: str) -> None:
    """Presence: the user's last socket is gone (closed, or vanished past the grace period).
    Left for the presence sweep to do while the service is read-only."""
    if switches.current().read_only:
        return
    with transaction.atomic():
        session = locked(session_id)
        user = User.objects.filter(pk=user_id).first()
        if session.is_active and user is not None:
            _leave(session, user)


def _leave(session: ListeningSession, user: User) -> bool:
    """Mark the user gone (under the row lock); the longest-present participant becomes host
    if the host left. False if the user was not present."""
    updated = (
        SessionParticipant.objects.present()
        .filter(session=session, user=user)
        .update(left_at=timezone.now(), updated_at=timezone.now())
    )
    if not updated:
        return False
    present = SessionParticipant.objects.present().filter(session=session)
    broadcast.send_on_commit(
        session.pk, "participant.left", user=broadcast.public_user(user), participant_count=present.count()
    )
    if session.host_id == user.pk:
        successor = present.select_related("user").order_by("joined_at", "id").first()
        if successor is not None:
            session.host = successor.user
            session.save(update_fields=["host", "updated_at"])
            broadcast.send_on_commit(session.pk, "host.changed", host=broadcast.public_user(successor.user))
    return True


def participant_remove(*, session_id: str, user: User, user_id: str) -> None:
    """The host removes someone: their sockets close (4403) and they cannot come back, by the
    code or by an invite made before, until the host sends them a new invite."""
    switches.check_writable()
    with transaction.atomic():
        session = locked(session_id)
        if not session.is_active:
            raise NotFound(ENDED)
        if session.host_id != user.pk:
            raise NotAllowed("Only the host can remove someone.")
        if user_id == user.pk:
            raise Conflict("The host cannot remove themselves; end the session or leave it.")
        participant = SessionParticipant.objects.filter(session=session, user_id=user_id).select_related("user").first()
        if participant is None:
            raise NotFound("That person is not in this session.")
        _leave(session, participant.user)
        participant.refresh_from_db()
        participant.removed_at = timezone.now()
        participant.save(update_fields=["removed_at", "updated_at"])
        SkipVote.objects.filter(session=session, user_id=user_id).delete()
        broadcast.send_on_commit(session.pk, "participant.removed", user_id=user_id, close_code=4403)


# --- invites: signed, expiring links -------------------------------------------------------------

INVITE_SALT = "listening_sessions.invite"
MAX_INVITE_HOURS = 7 * 24


def invite_create(*, code: str, user: User, hours: float | None = None) -> dict[str, Any]:
    """A signed invite to the session, good for `hours` (SESSION_INVITE_HOURS by default): a
    link to share or show as a QR code. Made by the host."""
    hours = settings.SESSION_INVITE_HOURS if hours is None else hours
    if not 0 < hours <= MAX_INVITE_HOURS:
        raise InvalidInput(f"An invite lasts up to {MAX_INVITE_HOURS} hours.", errors={"hours": ["Out of range."]})
    session = ListeningSession.objects.active().filter(code=code.upper()).first()
    if session is None:
        raise NotFound("No such session, or it has ended.")
    if session.host_id != user.pk:
        raise NotAllowed("Only the host can make invites.")
    now = timezone.now()
    expires = now + timedelta(hours=hours)
    token = signing.dumps({"s": session.pk, "iat": now.timestamp(), "exp": expires.timestamp()}, salt=INVITE_SALT)
    url = f"{settings.PUBLIC_BASE_URL.rstrip('/')}/?invite={token}"
    return {"token": token, "url": url, "qr": url, "code": session.code, "expires_at": expires}


def invite_join(*, token: str, user: User) -> ListeningSession:
    """Join by an invite; refused when it is forged, expired, or older than the user's removal."""
    try:
        claims = signing.loads(token, salt=INVITE_SALT)
        session_id, issued, expires = str(claims["s"]), float(claims["iat"]), float(claims["exp"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as exc:
        raise NotFound("This invite is not valid.") from exc
    if expires < timezone.now().timestamp():
        raise NotFound("This invite has expired; ask the host for a new one.")
    with transaction.atomic():
        session = ListeningSession.objects.select_for_update().filter(pk=session_id).first()
        if session is None or not session.is_active:
            raise NotFound(ENDED)
        participant = SessionParticipant.objects.filter(session=session, user=user).first()
        if participant is not None and participant.removed_at is not None:
            if participant.removed_at >= datetime.fromtimestamp(issued, tz=UTC):
                raise NotAllowed(REMOVED)
            participant.removed_at = None  # a newer invite from the host: welcome back
            participant.save(update_fields=["removed_at", "updated_at"])
        _join(session, user)
    return session


# --- the end, and the recap ------------------------------------------------------------------------


def session_end(*, code: str, user: User) -> None:
    """The host ends the session: every socket is told and closed with 4410."""
    with transaction.atomic():
        session = active_locked(code)
        if session.host_id != user.pk:
            raise NotAllowed("Only the host can end the session.")
        _end(session, ListeningSession.EndReason.HOST)


def session_end_by_staff(*, session_id: str) -> None:
    with transaction.atomic():
        session = locked(session_id)
        if session.is_active:
            _end(session, ListeningSession.EndReason.STAFF)


def sessions_expire() -> int:
    """End every session idle past its expiry (the scheduled job); returns how many."""
    ended = 0
    for session_id in ListeningSession.objects.expired().values_list("pk", flat=True):
        with transaction.atomic():
            session = locked(session_id)
            if session.is_active and session.expires_at <= timezone.now():
                _end(session, ListeningSession.EndReason.EXPIRED)
                ended += 1
    return ended


def _end(session: ListeningSession, reason: str) -> None:
    now = timezone.now()
    session.position = session.position_at(now)
    if session.current_song_id and session.position > 0:
        # What was playing counts as played: it ends the session's history (and its recap).
        PlayedItem.objects.create(
            session=session, song_id=session.current_song_id, added_by_id=session.current_added_by_id, played_at=now
        )
    session.is_active, session.is_playing, session.ended_at, session.end_reason = False, False, now, reason
    session.save(update_fields=["is_active", "is_playing", "position", "ended_at", "end_reason", "updated_at"])
    SessionParticipant.objects.present().filter(session=session).update(left_at=now, updated_at=now)
    played = _played(session)
    for participant in SessionParticipant.objects.filter(session=session).select_related("user"):
        if participant.user_id == session.host_id or participant.wants_recap:
            _recap(session, participant, played)
    broadcast.send_on_commit(session.pk, "session.ended", reason=reason)
    session_id = session.pk
    transaction.on_commit(lambda: sync.forget(session_id))


def _played(session: ListeningSession) -> list[tuple[str, str | None]]:
    """(song, who added it) for each song the session played, in order."""
    played = PlayedItem.objects.filter(session=session).order_by("played_at", "id")
    return [(item.song_id, item.added_by_id) for item in played]


def _recap(session: ListeningSession, participant: SessionParticipant, entries: list[tuple[str, str | None]]) -> None:
    """`entries` (what the session played) as a private playlist of the participant's, crediting
    who added each song (none if nothing played, or if they have it already)."""
    from playlists.services import playlist_create_with_songs

    if participant.recap_id is not None or not entries:
        return
    day = (session.ended_at or timezone.now()).date().isoformat()
    participant.recap = playlist_create_with_songs(
        owner=participant.user,
        name=f"{session.name or 'Listening party'} recap",
        desc=f"Played in listening session {session.code} on {day}, with who added each song.",
        entries=entries,
    )
    participant.save(update_fields=["recap", "updated_at"])


def recap_request(*, code: str, user: User) -> SessionParticipant:
    """A participant wants the recap: made when the session ends, or now if it has ended."""
    switches.check_writable()
    with transaction.atomic():
        session = ListeningSession.objects.select_for_update().with_code(code).first()
        participant = (
            SessionParticipant.objects.members().filter(session=session, user=user).select_related("user").first()
            if session is not None
            else None
        )
        if session is None or participant is None:
            raise NotFound("No such session, or you are not in it.")
        participant.wants_recap = True
        participant.save(update_fields=["wants_recap", "updated_at"])
        if not session.is_active:
            _recap(session, participant, _played(session))
    return participant


def session_update(*, code: str, user: User, **fields: object) -> ListeningSession:
    """The host renames the session or lets guests control playback."""
    with transaction.atomic():
        session = active_locked(code)
        if session.host_id != user.pk:
            raise NotAllowed("Only the host can change the session.")
        for field, value in fields.items():
            setattr(session, field, value)
        touch(session)
        session.revision += 1
        session.save(update_fields=[*fields, "expires_at", "revision", "updated_at"])
        state_on_commit(session.pk)
    return session


def state_on_commit(session_id: str) -> None:
    """After commit, every socket gets session:state again (read once, sent to all)."""
    transaction.on_commit(lambda: send_state(session_id))


def send_state(session_id: str) -> None:
    from listening_sessions.serializers import SessionSerializer

    session = ListeningSession.objects.for_api().filter(pk=session_id).first()
    if session is not None:
        broadcast.send_now(session_id, "session.state", session=camelized(SessionSerializer(session).data))


def camelized(data: object) -> dict:
    from djangorestframework_camel_case.util import camelize

    return dict(camelize(data))


def readable(*, code: str, user: User) -> ListeningSession:
    """GET: an active session by its code for anyone signed in (to see it before joining); an
    ended one for those who were in it. 404 otherwise."""
    session = ListeningSession.objects.for_api().with_code(code).first()
    if session is None:
        raise NotFound("No such session.")
    if not session.is_active and not _member(session, user):
        raise NotFound("No such session.")
    return session


def member_session(*, code: str, user: User) -> ListeningSession:
    """A session the user is (or was) in: chat history and the like. 404 for others."""
    session = ListeningSession.objects.with_code(code).first()
    if session is None or not _member(session, user):
        raise NotFound("No such session, or you are not in it.")
    return session


def _member(session: ListeningSession, user: User) -> bool:
    """In the session now or before, and not removed by the host."""
    return SessionParticipant.objects.members().filter(session=session, user=user).exists()
