"""The authorization matrix: every object endpoint and WebSocket, for each role, the answer.

Roles: owner (of the playlist), collaborator (of a collaborative playlist), host and participant
(of a listening session), stranger (signed in, no relation), anonymous, staff (a staff account
over the API: the admin is where staff have powers; the API grants none).

The policy the table encodes: what a caller may not even see answers 404 (never a 403 that
would confirm it exists); what they see but may not change answers 403; no token answers 401
on anything that is not public. Every role starts from the same objects (each REST request
runs in a savepoint rolled back after it); sockets go to a real server.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.db import transaction
from rest_framework.test import APIClient
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from accounts.models import User
from library.models import Song
from listening_sessions import services as sessions
from listening_sessions.models import ListeningSession
from playlists import services as playlists
from playlists.models import Playlist, PlaylistCollaborator
from tests.factories import SongFactory, UserFactory
from tests.support.auth import auth_client
from tests.support.servers import app_server
from tests.support.ws import token, ws_base


@dataclass
class World:
    """One of each object, and a user in each role."""

    users: dict[str, User | None]
    private: Playlist  # private and collaborative, with one song and a collaborator
    public: Playlist  # public, not collaborative, with one song
    song: Song
    other_song: Song
    session: ListeningSession


def world():
    owner, collaborator, host, participant, stranger = (UserFactory() for _ in range(5))
    staff = UserFactory(is_staff=True, is_superuser=True)
    song, other_song = SongFactory(), SongFactory()
    private = playlists.playlist_create(owner=owner, name="Private", collaborative=True)
    PlaylistCollaborator.objects.create(playlist=private, user=collaborator)
    playlists.playlist_song_add(playlist_id=private.pk, user=owner, song_id=song.pk)
    public = playlists.playlist_create(owner=owner, name="Public", is_public=True)
    playlists.playlist_song_add(playlist_id=public.pk, user=owner, song_id=song.pk)
    session = sessions.session_create(host=host, name="Party")
    sessions.session_join(code=session.code, user=participant)
    users = {
        "owner": owner,
        "collaborator": collaborator,
        "host": host,
        "participant": participant,
        "stranger": stranger,
        "anonymous": None,
        "staff": staff,
    }
    return World(users, private, public, song, other_song, session)


ROLES = ["owner", "collaborator", "host", "participant", "stranger", "anonymous", "staff"]


def row(*answers: int | str) -> dict[str, int | str]:
    return dict(zip(ROLES, answers, strict=True))


# (method, path, body) -> status per role, in ROLES order:
#      owner collaborator host participant stranger anonymous staff
REST = [
    ("get", "/api/playlist/{private}", None, row(200, 200, 404, 404, 404, 404, 404)),
    ("patch", "/api/playlist/{private}", {"name": "Renamed"}, row(200, 403, 404, 404, 404, 401, 404)),
    ("delete", "/api/playlist/{private}", None, row(200, 403, 404, 404, 404, 401, 404)),
    ("post", "/api/playlist/{private}/songs", {"songId": "{other_song}"}, row(200, 200, 404, 404, 404, 401, 404)),
    ("delete", "/api/playlist/{private}/songs/{song}", None, row(200, 200, 404, 404, 404, 401, 404)),
    ("put", "/api/playlist/{private}/order", {"songIds": ["{song}"]}, row(200, 200, 404, 404, 404, 401, 404)),
    ("get", "/api/playlist/{private}/collaborators", None, row(200, 403, 404, 404, 404, 401, 404)),
    (
        "post",
        "/api/playlist/{private}/collaborators",
        {"email": "new@example.com"},
        row(200, 403, 404, 404, 404, 401, 404),
    ),
    ("delete", "/api/playlist/{private}/collaborators/{collaborator}", None, row(200, 200, 404, 404, 404, 401, 404)),
    ("get", "/api/playlist/{public}", None, row(200, 200, 200, 200, 200, 200, 200)),
    ("patch", "/api/playlist/{public}", {"name": "Renamed"}, row(200, 403, 403, 403, 403, 401, 403)),
    ("delete", "/api/playlist/{public}", None, row(200, 403, 403, 403, 403, 401, 403)),
    ("post", "/api/playlist/{public}/songs", {"songId": "{other_song}"}, row(200, 403, 403, 403, 403, 401, 403)),
    ("get", "/api/session/{code}", None, row(200, 200, 200, 200, 200, 401, 200)),
    ("patch", "/api/session/{code}", {"guestsCanControl": True}, row(403, 403, 200, 403, 403, 401, 403)),
    ("post", "/api/session/{code}/join", None, row(200, 200, 200, 200, 200, 401, 200)),
    # A session's chat is its members' alone: to anyone else the session has no messages to show.
    ("get", "/api/session/{code}/messages", None, row(404, 404, 200, 200, 404, 401, 404)),
    ("post", "/api/session/{code}/end", None, row(403, 403, 200, 403, 403, 401, 403)),
    ("post", "/api/session/{code}/invite", None, row(403, 403, 201, 403, 403, 401, 403)),
    ("delete", "/api/session/{code}/participants/{participant}", None, row(403, 403, 200, 403, 403, 401, 403)),
    # A session's recap, history and reactions, like its chat: its members' alone.
    ("post", "/api/session/{code}/recap", None, row(404, 404, 200, 200, 404, 401, 404)),
    ("get", "/api/session/{code}/history", None, row(404, 404, 200, 200, 404, 401, 404)),
    ("get", "/api/session/{code}/reactions", None, row(404, 404, 200, 200, 404, 401, 404)),
]


def fill(value, w: World):
    names = {
        "private": w.private.pk,
        "public": w.public.pk,
        "song": w.song.pk,
        "other_song": w.other_song.pk,
        "code": w.session.code,
        "collaborator": w.users["collaborator"].pk,  # type: ignore[union-attr]
        "participant": w.users["participant"].pk,  # type: ignore[union-attr]
    }
    if isinstance(value, str):
        return value.format(**names)
    if isinstance(value, list):
        return [fill(v, w) for v in value]
    if isinstance(value, dict):
        return {k: fill(v, w) for k, v in value.items()}
    return value


class Undo(Exception):
    """Raised to roll a cell's savepoint back: the next role starts from the same objects."""


def answer(w, role: str, method: str, path: str, body) -> int:
    user = w.users[role]
    client = auth_client(user) if user else APIClient()
    try:
        with transaction.atomic():
            response = getattr(client, method)(fill(path, w), fill(body, w), format="json")
            raise Undo
    except Undo:
        pass
    if response.status_code >= 400:
        assert response.json()["success"] is False, response.content  # the envelope, whatever the refusal
    return response.status_code


@pytest.mark.django_db
@pytest.mark.parametrize(("method", "path", "body", "statuses"), REST, ids=[f"{m.upper()} {p}" for m, p, _, _ in REST])
def test_each_role_gets_its_answer_from_each_object_endpoint(method, path, body, statuses):
    w = world()
    answers = {role: answer(w, role, method, path, body) for role in ROLES}
    assert answers == statuses


# WebSockets: the close code a role gets, or "open" (accepted, and still open a moment later:
# a live playlist's socket says nothing until the playlist changes).
SOCKETS = {
    "/ws/playlist/{private}/": row("open", "open", 4404, 4404, 4404, 4401, 4404),
    "/ws/playlist/{public}/": row("open", "open", "open", "open", "open", 4401, "open"),
    "/ws/session/{code}/": row("open", "open", "open", "open", "open", 4401, "open"),
}


def socket_answer(server: str, path: str, user) -> int | str:
    url = f"{ws_base(server)}{path}" + (f"?token={token(user)}" if user else "")
    with connect(url, open_timeout=10) as socket:
        try:
            socket.recv(timeout=1.5)
        except TimeoutError:
            return "open"
        except ConnectionClosed as closed:
            return closed.rcvd.code if closed.rcvd else "closed without a code"
        return "open"


@pytest.mark.django_db(transaction=True)
def test_each_role_gets_its_answer_from_each_socket(static_root):
    w = world()
    with app_server(static_root=static_root) as server:
        answers = {
            path: {role: socket_answer(server, fill(path, w), w.users[role]) for role in ROLES} for path in SOCKETS
        }
    assert answers == SOCKETS
