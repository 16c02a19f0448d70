"""Live playlists over a real WebSocket: uvicorn serves the ASGI app (as `make run` does) and a
real client (the `websockets` library) listens while edits go through the HTTP API."""

import json

import pytest
from django.urls import reverse
from rest_framework_simplejwt.tokens import AccessToken
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from playlists.models import Playlist, PlaylistCollaborator
from tests.factories import PASSWORD, PlaylistFactory, SongFactory, UserFactory
from tests.support.admin import change_form_data
from tests.support.servers import app_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(static_root):
    """One server for the module's tests (each test's rows are its own: new ids every time)."""
    with app_server(static_root=static_root) as url:
        yield url


def token(user) -> str:
    return str(AccessToken.for_user(user))


def ws_url(server: str, playlist_id: str, user=None) -> str:
    query = f"?token={token(user)}" if user else ""
    return f"{server.replace('http', 'ws', 1)}/ws/playlist/{playlist_id}/{query}"


def http(server, user, method, path, body=None):
    import urllib.request

    request = urllib.request.Request(
        f"{server}{path}",
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token(user)}"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def close_code(url: str, **kwargs) -> int:
    with connect(url, open_timeout=10, **kwargs) as socket, pytest.raises(ConnectionClosed) as closed:
        socket.recv(timeout=10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code


@pytest.fixture
def shared():
    owner, collaborator = UserFactory(), UserFactory()
    playlist = PlaylistFactory(owner=owner, collaborative=True)
    PlaylistCollaborator.objects.create(playlist=playlist, user=collaborator)
    return playlist, owner, collaborator


def test_a_collaborators_edit_reaches_the_owner_live(server, shared):
    playlist, owner, collaborator = shared
    song = SongFactory()
    with connect(ws_url(server, playlist.pk, owner), open_timeout=10) as socket:
        http(server, collaborator, "POST", f"/api/playlist/{playlist.pk}/songs", {"songId": song.pk})
        frame = json.loads(socket.recv(timeout=10))
    assert frame["type"] == "playlist:update"
    assert frame["data"]["playlist"]["songIds"] == [song.pk]
    assert frame["data"]["playlist"]["songCount"] == 1


def test_deleting_tells_listeners_and_closes(server, shared):
    playlist, owner, collaborator = shared
    with connect(ws_url(server, playlist.pk, collaborator), open_timeout=10) as socket:
        http(server, owner, "DELETE", f"/api/playlist/{playlist.pk}")
        frame = json.loads(socket.recv(timeout=10))
        assert frame == {"type": "playlist:deleted", "data": {"id": playlist.pk}}
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == 4410


def test_refusals_carry_their_codes(server, shared):
    playlist, owner, _ = shared
    assert close_code(ws_url(server, playlist.pk)) == 4401
    assert close_code(ws_url(server, playlist.pk) + "?token=garbage") == 4401
    assert close_code(ws_url(server, playlist.pk, UserFactory())) == 4404  # a stranger, private playlist
    assert close_code(ws_url(server, "aaaaaaaaaaaaaaaaaaaaaaaa", owner)) == 4404
    assert close_code(ws_url(server, playlist.pk, owner), origin="https://evil.example.com") == 4403


def test_a_listener_who_may_no_longer_read_is_closed(server, shared):
    playlist, owner, collaborator = shared
    with connect(ws_url(server, playlist.pk, collaborator), open_timeout=10) as socket:
        http(server, owner, "DELETE", f"/api/playlist/{playlist.pk}/collaborators/{collaborator.pk}")
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == 4404


# --- staff edits in the admin reach listeners at once --------------------------------------


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def admin_change(staff_client, playlist, **changes):
    url = reverse("admin:playlists_playlist_change", args=[playlist.pk])
    response = staff_client.post(url, change_form_data(staff_client, url, **changes))
    assert response.status_code == 302


def test_a_staff_rename_reaches_listeners(server, shared, staff_client):
    playlist, owner, _ = shared
    with connect(ws_url(server, playlist.pk, owner), open_timeout=10) as socket:
        admin_change(staff_client, playlist, name="Renamed by staff")
        frame = json.loads(socket.recv(timeout=10))
    assert frame["type"] == "playlist:update" and frame["data"]["playlist"]["name"] == "Renamed by staff"


def test_a_playlist_staff_make_private_closes_strangers_sockets(server, shared, staff_client):
    playlist = shared[0]
    Playlist.objects.filter(pk=playlist.pk).update(is_public=True)
    playlist.refresh_from_db()
    with connect(ws_url(server, playlist.pk, UserFactory()), open_timeout=10) as socket:
        admin_change(staff_client, playlist, is_public=False)
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd.code == 4404


def test_signing_out_closes_that_logins_sockets(server, shared):
    playlist, owner, _ = shared
    signed_in = http_anonymous(server, "POST", "/api/auth/login", {"email": owner.email, "password": PASSWORD})
    url = f"{server.replace('http', 'ws', 1)}/ws/playlist/{playlist.pk}/?token={signed_in['accessToken']}"
    with connect(url, open_timeout=10) as socket:
        logout = {"refreshToken": signed_in["refreshToken"]}
        http_anonymous(server, "POST", "/api/auth/logout", logout, access=signed_in["accessToken"])
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def http_anonymous(server, method, path, body, access=None):
    import urllib.request

    headers = {"Content-Type": "application/json", **({"Authorization": f"Bearer {access}"} if access else {})}
    request = urllib.request.Request(f"{server}{path}", method=method, data=json.dumps(body).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())
