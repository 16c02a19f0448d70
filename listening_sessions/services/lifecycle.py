"""A session's life: created with a join code, joined and left, its host handed on, ended by
the host, by staff or by expiry. Every change holds the session's row lock."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import User
from listening_sessions import broadcast
from listening_sessions.models import (
    CODE_ALPHABET,
    CODE_LENGTH,
    MAX_HOSTED_ACTIVE,
    MAX_PARTICIPANTS,
    ListeningSession,
    SessionParticipant,
)
from musicapp.platform import switches
from musicapp.platform.errors import Conflict, NotAllowed, NotFound

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
    with transaction.atomic():
        session = active_locked(code)
        return session, _join(session, user)


def _join(session: ListeningSession, user: User) -> bool:
    participant = SessionParticipant.objects.filter(session=session, user=user).first()
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
    session.is_active, session.is_playing, session.ended_at, session.end_reason = False, False, now, reason
    session.save(update_fields=["is_active", "is_playing", "position", "ended_at", "end_reason", "updated_at"])
    SessionParticipant.objects.present().filter(session=session).update(left_at=now, updated_at=now)
    broadcast.send_on_commit(session.pk, "session.ended", reason=reason)


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
    if not session.is_active and not SessionParticipant.objects.filter(session=session, user=user).exists():
        raise NotFound("No such session.")
    return session


def member_session(*, code: str, user: User) -> ListeningSession:
    """A session the user is (or was) in: chat history and the like. 404 for others."""
    session = ListeningSession.objects.with_code(code).first()
    if session is None or not SessionParticipant.objects.filter(session=session, user=user).exists():
        raise NotFound("No such session, or you are not in it.")
    return session
