"""The operator's switches (musicapp.platform.switches): read-only maintenance, closed sign-ups
and feature flags with a rollout share, edited by staff in the admin, seen by every process,
reported by /health. Against the real PostgreSQL and Redis (and a real server for sockets)."""

import pytest
from django.core import mail
from django.test import override_settings

from accounts.models import User
from listening_sessions import services as sessions
from musicapp.models import FeatureFlag, Switches
from musicapp.platform import scoped_cache, switches
from playlists.models import Playlist
from tests.factories import PASSWORD, SongFactory, UserFactory
from tests.support.servers import app_server, redis_server
from tests.support.ws import session_socket

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    staff = UserFactory(is_staff=True, is_superuser=True)
    assert client.post("/admin/login/", {"username": staff.email, "password": PASSWORD}).status_code == 302
    return client


def admin_save_switches(staff_client, capture, **fields) -> None:
    """Staff change the switches in the admin's form, as they would."""
    values = {"read_only": False, "read_only_message": "", "retry_after_s": 300, "signups_open": True, **fields}
    form = {name: value for name, value in values.items() if value is not False}
    Switches.objects.get_or_create(pk=1)  # (made by a migration; a transactional test may have emptied it)
    with capture(execute=True):
        response = staff_client.post("/admin/musicapp/switches/1/change/", form)
    assert response.status_code == 302, response.content


def test_read_only_maintenance_refuses_every_api_write_and_keeps_reads(
    staff_client, owner_api, call, django_capture_on_commit_callbacks
):
    created = call(owner_api, "post", "/api/playlist", {"name": "Before"}).json()["playlist"]
    admin_save_switches(
        staff_client,
        django_capture_on_commit_callbacks,
        read_only=True,
        read_only_message="Upgrading",
        retry_after_s=120,
    )

    refused = call(owner_api, "post", "/api/playlist", {"name": "During"})
    assert refused.status_code == 503
    assert refused["Retry-After"] == "120"
    assert refused.json() == {"success": False, "code": "maintenance", "message": "Upgrading"}
    assert call(owner_api, "delete", f"/api/playlist/{created['id']}").status_code == 503
    assert call(owner_api, "patch", "/api/user/me", {"name": "Renamed"}).status_code == 503
    assert list(Playlist.objects.values_list("name", flat=True)) == ["Before"]  # nothing changed
    assert call(owner_api, "get", f"/api/playlist/{created['id']}").status_code == 200  # reads go on
    assert staff_client.get("/health").json()["switches"]["readOnly"] is True

    # The admin still works in maintenance: staff turn it off, and writes work again at once.
    admin_save_switches(staff_client, django_capture_on_commit_callbacks, read_only=False)
    assert call(owner_api, "post", "/api/playlist", {"name": "After"}).status_code == 201


def test_closed_sign_ups_refuse_new_and_known_addresses_alike(
    staff_client, call, api, django_capture_on_commit_callbacks
):
    known = UserFactory()
    admin_save_switches(staff_client, django_capture_on_commit_callbacks, signups_open=False)
    users_before = User.objects.count()

    answers = [
        call(api, "post", "/api/auth/register", {"email": email, "password": "Turntable-2026!", "name": "N"})
        for email in ("new-listener@example.com", known.email)
    ]

    assert [(a.status_code, a.json()["code"]) for a in answers] == [(403, "signups_closed")] * 2
    assert answers[0].json() == answers[1].json()  # nothing tells whether an address has an account
    assert User.objects.count() == users_before and mail.outbox == []


def test_a_rollout_share_keeps_its_users_as_it_grows():
    user_ids = [f"{n:024x}" for n in range(4000)]
    at = {
        percent: {
            u for u in user_ids if switches.Snapshot(flags={"session_chat": (True, percent)}).flag("session_chat", u)
        }
        for percent in (0, 30, 60, 100)
    }
    assert at[0] == set() and at[100] == set(user_ids)
    assert 0.27 < len(at[30]) / 4000 < 0.33 and 0.57 < len(at[60]) / 4000 < 0.63
    assert at[30] <= at[60]  # whoever had it keeps it
    assert not switches.Snapshot(flags={"session_chat": (False, 100)}).flag("session_chat", user_ids[0])


def test_flags_are_listed_in_health_and_edited_in_the_admin(staff_client, django_capture_on_commit_callbacks):
    FeatureFlag.objects.get_or_create(name="session_chat")
    assert staff_client.get("/admin/musicapp/featureflag/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            "/admin/musicapp/featureflag/session_chat/change/",
            {"name": "session_chat", "enabled": "on", "rollout_percent": 25, "description": "Chat"},
        )
    assert response.status_code == 302
    assert staff_client.get("/health").json()["switches"] == {
        "readOnly": False,
        "signupsOpen": True,
        "flags": {"session_chat": {"enabled": True, "rolloutPercent": 25}},
    }


def test_the_last_known_switches_hold_while_redis_is_down(django_capture_on_commit_callbacks):
    with redis_server() as (url, proc):
        caches = {"default": {"BACKEND": "django_redis.cache.RedisCache", "LOCATION": url}}
        with override_settings(CACHES=caches):
            scoped_cache.clear_local()
            Switches.objects.update_or_create(pk=1, defaults={"read_only": True})
            assert switches.current().read_only is True
            proc.terminate()
            proc.wait(10)
            scoped_cache.clear_local()
            assert switches.current().read_only is True  # not an error, not a flip to the defaults
    scoped_cache.clear_local()


@pytest.mark.django_db(transaction=True)
def test_session_sockets_follow_the_chat_flag_and_maintenance(static_root):
    host = UserFactory()
    song = SongFactory(duration=180.0)
    session = sessions.session_create(host=host, name="Flags")
    with app_server(static_root=static_root) as server, session_socket(server, session.code, host) as socket:
        socket.expect("session:state")
        FeatureFlag.objects.update_or_create(name="session_chat", defaults={"enabled": False})
        switches.changed()  # (autocommit here: announced at once; the server reads it at once)
        socket.send("chat:message", {"text": "hello"})
        assert socket.expect("error")["code"] == "feature_disabled"
        socket.send("playback:play", {"songId": song.pk})
        assert socket.expect("playback:update")["currentSongId"] == song.pk  # the rest of the party goes on

        Switches.objects.update_or_create(pk=1, defaults={"read_only": True})
        switches.changed()
        socket.send("playback:pause", {"currentTime": 10})
        assert socket.expect("error")["code"] == "maintenance"
