"""The Listening sessions section of API.md for host, participant, stranger and anonymous."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from rest_framework.test import APIClient

from listening_sessions import services
from listening_sessions.models import CODE_ALPHABET, MAX_PARTICIPANTS, ChatMessage, ListeningSession, SessionParticipant
from tests.factories import SongFactory, UserFactory
from tests.support.auth import auth_client

pytestmark = pytest.mark.django_db

SESSION_KEYS = {
    "code",
    "name",
    "host",
    "isActive",
    "currentSongId",
    "currentTime",
    "isPlaying",
    "queueIds",
    "participants",
    "expiresAt",
    "createdAt",
    # additions beside API.md's fields
    "queue",
    "shuffle",
    "loop",
    "guestsCanControl",
    "revision",
    "serverTime",
    # the party's (docs/WEBSOCKETS.md)
    "fairQueue",
    "queueLimit",
    "skipShare",
    "track",
    "startAt",
    "endedAt",
}


@pytest.fixture
def host(db):
    return UserFactory(name="Hana Host")


@pytest.fixture
def host_api(host):
    return auth_client(host)


@pytest.fixture
def session(host_api):
    return host_api.post("/api/session", {"name": "Friday"}, format="json").json()["session"]


@pytest.fixture
def guest(db):
    return UserFactory(name="Gus Guest")


@pytest.fixture
def guest_api(guest):
    return auth_client(guest)


def test_creating_a_session_makes_the_caller_its_host(host, host_api):
    response = host_api.post("/api/session", {"name": "Friday"}, format="json")
    assert response.status_code == 201
    session = response.json()["session"]
    assert set(session) == SESSION_KEYS
    assert len(session["code"]) == 6 and set(session["code"]) <= set(CODE_ALPHABET)
    assert session["host"] == {"id": host.pk, "name": "Hana Host", "avatar": None}
    assert session["participants"] == [{"id": host.pk, "name": "Hana Host", "avatar": None, "isHost": True}]
    assert (session["isActive"], session["isPlaying"], session["currentSongId"], session["queueIds"]) == (
        True,
        False,
        None,
        [],
    )


def test_a_host_runs_at_most_three_sessions_at_once(host_api):
    for _ in range(3):
        assert host_api.post("/api/session", {}, format="json").status_code == 201
    response = host_api.post("/api/session", {}, format="json")
    assert response.status_code == 409 and response.json()["code"] == "conflict"


def test_codes_are_unique_among_active_sessions_only(host):
    first = services.session_create(host=host)
    ListeningSession.objects.filter(pk=first.pk).update(is_active=False)
    again = services.session_create(host=host)
    ListeningSession.objects.filter(pk=again.pk).update(code=first.code)  # allowed: the first has ended
    with pytest.raises(Exception, match="sessions_active_code_unique"):
        ListeningSession.objects.filter(pk=first.pk).update(is_active=True)


def test_anyone_signed_in_sees_an_active_session_by_its_code_in_any_case(session, guest_api):
    response = guest_api.get(f"/api/session/{session['code'].lower()}")
    assert response.status_code == 200 and response.json()["session"]["code"] == session["code"]
    assert APIClient().get(f"/api/session/{session['code']}").status_code == 401
    assert guest_api.get("/api/session/ZZZZZZ").status_code == 404


def test_joining_and_leaving(session, guest, guest_api):
    response = guest_api.post(f"/api/session/{session['code']}/join")
    assert response.status_code == 200
    assert [p["name"] for p in response.json()["session"]["participants"]] == ["Hana Host", "Gus Guest"]
    assert guest_api.post(f"/api/session/{session['code']}/join").status_code == 200  # idempotent
    assert guest_api.post(f"/api/session/{session['code']}/leave").json()["message"] == "You left the session."
    assert guest_api.post(f"/api/session/{session['code']}/leave").status_code == 404
    assert [p["name"] for p in guest_api.get(f"/api/session/{session['code']}").json()["session"]["participants"]] == [
        "Hana Host"
    ]


def test_a_session_takes_at_most_fifty(session, guest_api):
    live = ListeningSession.objects.get(code=session["code"])
    SessionParticipant.objects.bulk_create(
        [SessionParticipant(session=live, user=UserFactory()) for _ in range(MAX_PARTICIPANTS - 1)]
    )
    response = guest_api.post(f"/api/session/{session['code']}/join")
    assert response.status_code == 409 and "full" in response.json()["message"]


def test_when_the_host_leaves_the_longest_present_becomes_host(session, host_api, guest, guest_api):
    guest_api.post(f"/api/session/{session['code']}/join")
    auth_client(UserFactory()).post(f"/api/session/{session['code']}/join")
    host_api.post(f"/api/session/{session['code']}/leave")
    assert guest_api.get(f"/api/session/{session['code']}").json()["session"]["host"]["id"] == guest.pk


def test_only_the_host_ends_and_then_nobody_joins(session, host_api, guest_api):
    guest_api.post(f"/api/session/{session['code']}/join")
    assert guest_api.post(f"/api/session/{session['code']}/end").status_code == 403
    assert host_api.post(f"/api/session/{session['code']}/end").status_code == 200
    assert guest_api.post(f"/api/session/{session['code']}/join").status_code == 404
    ended = guest_api.get(f"/api/session/{session['code']}").json()["session"]  # they were in it
    assert ended["isActive"] is False and ended["participants"] == []
    assert auth_client(UserFactory()).get(f"/api/session/{session['code']}").status_code == 404  # a stranger


def test_only_the_host_lets_guests_control(session, host_api, guest_api):
    guest_api.post(f"/api/session/{session['code']}/join")
    assert (
        guest_api.patch(f"/api/session/{session['code']}", {"guestsCanControl": True}, format="json").status_code == 403
    )
    response = host_api.patch(f"/api/session/{session['code']}", {"guestsCanControl": True}, format="json")
    assert response.status_code == 200 and response.json()["session"]["guestsCanControl"] is True


def test_chat_history_pages_newest_first_for_those_in_it(session, host, guest_api, django_assert_max_num_queries):
    live = ListeningSession.objects.get(code=session["code"])
    start = timezone.now()
    for n in range(5):
        ChatMessage.objects.create(
            session=live, user=host, text=f"message {n}", created_at=start + timedelta(seconds=n)
        )
    host_api = auth_client(host)
    with django_assert_max_num_queries(4):  # the token's user, the session, membership, the page
        first = host_api.get(f"/api/session/{session['code']}/messages", {"limit": 2}).json()
    assert [m["text"] for m in first["messages"]] == ["message 4", "message 3"] and first["hasMore"]
    rest = host_api.get(f"/api/session/{session['code']}/messages", {"cursor": first["nextCursor"]}).json()
    assert [m["text"] for m in rest["messages"]] == ["message 2", "message 1", "message 0"]
    assert rest["messages"][0]["user"]["name"] == "Hana Host"
    assert guest_api.get(f"/api/session/{session['code']}/messages").status_code == 404  # not in it


def test_idle_sessions_expire(session, host):
    services.session_create(host=host)  # a second one, fresh
    with time_machine.travel(timezone.now() + timedelta(hours=6, minutes=1)):
        assert services.sessions_expire() == 2
    live = ListeningSession.objects.get(code=session["code"])
    assert (live.is_active, live.end_reason) == (False, "expired")


def test_activity_keeps_a_session_alive(session, host):
    live = ListeningSession.objects.get(code=session["code"])
    song = SongFactory()
    with time_machine.travel(timezone.now() + timedelta(hours=5)):
        services.command_apply(session_id=live.pk, user=host, kind="playback:play", data={"song_id": song.pk})
    with time_machine.travel(timezone.now() + timedelta(hours=7)):
        assert services.sessions_expire() == 0


def test_anonymous_callers_are_401(session):
    client = APIClient()
    assert client.post("/api/session", {}, format="json").status_code == 401
    assert client.post(f"/api/session/{session['code']}/join").status_code == 401


def test_a_play_in_a_session_context_names_a_session_the_listener_is_in(session, host, host_api, guest_api):
    song = SongFactory()
    play = {"songId": song.pk, "playDuration": 10, "contextType": "session", "contextId": session["code"]}
    assert host_api.post("/api/recently-played", play, format="json").status_code == 201
    response = guest_api.post("/api/recently-played", play, format="json")  # never joined
    assert response.status_code == 400 and "contextId" in response.json()["errors"]


def test_history_and_reactions_page_in_order_in_a_fixed_number_of_queries(session, host, django_assert_max_num_queries):
    from listening_sessions.models import PlayedItem, Reaction
    from tests.factories import SongFactory

    live = ListeningSession.objects.get(code=session["code"])
    start = timezone.now()
    songs = SongFactory.create_batch(5)
    for n, song in enumerate(songs):
        PlayedItem.objects.create(session=live, song=song, added_by=host, played_at=start + timedelta(seconds=n))
        Reaction.objects.create(
            session=live, user=host, song=song, emoji="🎉", position=n, created_at=start + timedelta(seconds=n)
        )
    host_api = auth_client(host)
    with django_assert_max_num_queries(4):  # the token's user, the session, membership, the page
        played = host_api.get(f"/api/session/{session['code']}/history", {"limit": 3}).json()
    assert [p["song"]["id"] for p in played["played"]] == [s.pk for s in songs[:3]] and played["hasMore"]
    assert played["played"][0]["addedBy"]["name"] == "Hana Host" and played["played"][0]["song"]["album"]
    with django_assert_max_num_queries(4):
        reactions = host_api.get(f"/api/session/{session['code']}/reactions").json()
    assert [r["position"] for r in reactions["reactions"]] == [0, 1, 2, 3, 4]
