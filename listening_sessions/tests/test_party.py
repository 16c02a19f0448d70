"""The party beyond shared playback (docs/WEBSOCKETS.md: start together, sync telemetry, the
democratic queue, reactions, recap, invites), with real clients on real servers (uvicorn, as
`make run` serves it; two of them where a point spans processes).

Roles: the host, guests (in the session), a stranger (not in it)."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from listening_sessions import services
from listening_sessions.models import ListeningSession, SessionParticipant
from playlists.models import Playlist, PlaylistSong
from tests.factories import SongFactory, UserFactory
from tests.support.servers import app_server
from tests.support.ws import Socket, session_socket

pytestmark = pytest.mark.django_db(transaction=True)

PARTY = {"SESSION_READY_CAP_S": "2", "SESSION_RESYNC_EVERY_S": "1", "METRICS_TOKEN": "metrics-secret"}


@pytest.fixture(scope="module")
def server(static_root):
    """One server for the module's tests (each test's rows are its own: new ids every time)."""
    with app_server(static_root=static_root, env=PARTY) as url:
        yield url


@pytest.fixture
def host(db):
    return UserFactory(name="Hana Host")


@pytest.fixture
def guests(db):
    return UserFactory(name="Gus Guest"), UserFactory(name="Greta Guest")


@pytest.fixture
def session(host):
    return services.session_create(host=host, name="Friday")


@pytest.fixture
def songs(db):
    return SongFactory.create_batch(4, duration=180.0)


def call(server, user, method, path, body=None, headers=None):
    """(status, JSON body) of a REST call as `user`."""
    from tests.support.ws import token

    request = urllib.request.Request(
        f"{server}{path}",
        method=method,
        data=json.dumps(body or {}).encode() if method != "GET" else None,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token(user)}", **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def update_at(socket: Socket, revision: int) -> dict:
    """The socket's playback:update of that revision (the earlier ones are skipped)."""
    while (update := socket.expect("playback:update"))["revision"] < revision:
        pass
    return update


def joined(server, code, *users) -> list[Socket]:
    sockets = [session_socket(server, code, user) for user in users]
    for socket in sockets:
        socket.expect("session:state")
    return sockets


# --- start together ---------------------------------------------------------------------------


def test_a_new_song_is_scheduled_to_start_at_the_same_instant_for_everyone(server, session, host, guests, songs):
    guest = guests[0]
    h, g = joined(server, session.code, host, guest)
    with h, g:
        h.send("playback:play", {"songId": songs[0].pk})
        seen = h.expect("playback:update"), g.expect("playback:update")
        assert seen[0] == seen[1]
        update = seen[0]
        margin = update["startAt"] - time.time()
        assert 0 < margin <= 1.501  # the slowest round trip (0.1 s assumed) + 50 ms, in bounds
        assert update["currentTime"] == 0 and update["isPlaying"] and update["track"] == 1
        # WS.md's formula still holds: the position is currentTime + (now - serverTime), which is
        # negative (wait) until the start, since serverTime is the start instant meanwhile.
        assert update["serverTime"] == update["startAt"]
        # Until then the song stays at its start, for anyone who asks (asked again, should a loaded
        # machine answer only after the start: the pending start is the point here).
        for _attempt in range(3):
            _, body = call(server, guest, "GET", f"/api/session/{session.code}")
            if time.time() < update["startAt"]:
                break
            h.send("playback:play", {"songId": songs[0].pk})  # answered too late: a new start
            update = h.expect("playback:update")
            g.expect("playback:update")
        else:
            pytest.fail("no answer came back before the song's start, three times")
        assert body["session"]["startAt"] == update["startAt"] and body["session"]["currentTime"] == 0
        margin = update["startAt"] - time.time()
        time.sleep(margin + 0.3)
        _, body = call(server, guest, "GET", f"/api/session/{session.code}")
        assert body["session"]["startAt"] is None and body["session"]["currentTime"] > 0


def test_players_that_say_ready_are_waited_for_up_to_the_cap_and_never_longer(server, session, host, guests, songs):
    guest = guests[0]
    h, g = joined(server, session.code, host, guest)
    with h, g:
        h.send("playback:play", {"songId": songs[0].pk})
        h.expect("playback:update"), g.expect("playback:update")
        for socket in (h, g):  # both players say ready: later songs wait for them
            socket.send("playback:ready", {"songId": songs[0].pk})

        h.send("playback:play", {"songId": songs[1].pk})
        waiting = h.expect("playback:update")
        g.expect("playback:update")
        assert waiting["startAt"] - time.time() == pytest.approx(2.0, abs=0.3)  # the cap
        h.send("playback:ready", {"songId": songs[1].pk})
        h.nothing_of("playback:update", within=0.5)  # the guest is not ready yet
        g.send("playback:ready", {"songId": songs[1].pk})
        sooner = h.expect("playback:update")
        assert g.expect("playback:update") == sooner
        assert sooner["startAt"] < waiting["startAt"] and sooner["revision"] > waiting["revision"]
        assert sooner["startAt"] - time.time() < 0.5

        # A slow guest never says ready: the start stays at the cap, and comes.
        h.send("playback:play", {"songId": songs[2].pk})
        capped = h.expect("playback:update")
        h.send("playback:ready", {"songId": songs[2].pk})
        h.nothing_of("playback:update", within=0.5)
        time.sleep(max(0.0, capped["startAt"] - time.time()) + 0.3)
        _, body = call(server, host, "GET", f"/api/session/{session.code}")
        assert body["session"]["currentSongId"] == songs[2].pk and body["session"]["currentTime"] > 0


# --- sync telemetry ---------------------------------------------------------------------------


def test_a_player_out_of_step_alone_gets_a_resync_and_the_host_sees_who(server, session, host, guests, songs):
    guest = guests[0]
    h, g = joined(server, session.code, host, guest)
    with h, g:
        h.send("playback:play", {"songId": songs[0].pk})
        update = h.expect("playback:update")
        g.expect("playback:update")
        time.sleep(max(0.0, update["startAt"] - time.time()) + 0.2)

        g.send("sync:report", {"position": 60.0, "offset": 0.0, "rtt": 0.02})  # a minute ahead
        resync = g.expect("playback:update")
        assert resync["resync"] is True and resync["drift"] > 59 and resync["currentSongId"] == songs[0].pk
        status = h.expect("sync:status")
        assert status["outOfStep"] == [guest.pk]
        assert status["participants"][0]["rtt"] == 0.02
        h.nothing_of("playback:update", within=0.3)  # the resync was the guest's alone
        g.nothing_of("sync:status", within=0.1)  # and the status the host's

        # The host's session:state says the same; a report in step clears it.
        with session_socket(server, session.code, host) as second_tab:
            assert second_tab.expect("session:state")["sync"]["outOfStep"] == [guest.pk]
        _, body = call(server, guest, "GET", f"/api/session/{session.code}")
        g.send("sync:report", {"position": body["session"]["currentTime"], "offset": 0.0, "rtt": 0.02})
        assert h.expect("sync:status")["outOfStep"] == []
        g.nothing_of("playback:update", within=0.3)

    request = urllib.request.Request(f"{server}/metrics", headers={"Authorization": "Bearer metrics-secret"})
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    # Labelled by the session's id: its join code, all it takes to join, is not in /metrics.
    assert f'musicapp_session_drift_seconds_count{{session="{session.pk}"}} 2.0' in text
    assert f'musicapp_session_rtt_seconds_bucket{{le="0.025",session="{session.pk}"}} 2.0' in text
    assert session.code not in text


# --- the democratic queue ---------------------------------------------------------------------


def test_a_fair_queue_interleaves_guests_and_caps_each_one(server, session, host, guests, songs):
    gus, greta = guests
    status, body = call(server, host, "PATCH", f"/api/session/{session.code}", {"fairQueue": True, "queueLimit": 2})
    assert status == 200 and body["session"]["fairQueue"] and body["session"]["queueLimit"] == 2
    h, g1, g2 = joined(server, session.code, host, gus, greta)
    with h, g1, g2:
        for song in songs[:2]:
            g1.send("queue:add", {"songId": song.pk})
            g1.expect("playback:update")
        g1.send("queue:add", {"songId": songs[2].pk})
        assert g1.expect("error")["code"] == "conflict"  # Gus has 2 queued: the cap
        g2.send("queue:add", {"songId": songs[3].pk})
        g2.expect("playback:update"), g2.expect("playback:update")  # Gus's two
        queue = g2.expect("playback:update")["queue"]
    # Greta's first song comes before Gus's second.
    assert [(item["songId"], item["addedBy"]) for item in queue] == [
        (songs[0].pk, gus.pk),
        (songs[3].pk, greta.pk),
        (songs[1].pk, gus.pk),
    ]


def test_a_bad_queue_setting_is_refused_and_changes_nothing(server, session, host, guests):
    status, body = call(server, host, "PATCH", f"/api/session/{session.code}", {"skipShare": 1.5, "fairQueue": True})
    assert status == 400 and body["code"] == "validation_error"
    status, _ = call(server, guests[0], "PATCH", f"/api/session/{session.code}", {"fairQueue": True})
    assert status == 403  # a guest may not
    session.refresh_from_db()
    assert (session.skip_share, session.fair_queue) == (0.5, False)


def test_skip_votes_across_two_processes_count_once_per_user(static_root, session, host, guests, songs):
    gus, greta = guests
    with (
        app_server(static_root=static_root, env=PARTY) as one,
        app_server(static_root=static_root, env=PARTY) as two,
    ):
        h, gus_tab1 = joined(one, session.code, host, gus)
        gus_tab2, greta_socket = joined(two, session.code, gus, greta)
        with h, gus_tab1, gus_tab2, greta_socket:
            h.send("queue:add", {"songId": songs[1].pk})
            h.send("playback:play", {"songId": songs[0].pk})
            first = [h.expect("playback:update"), h.expect("playback:update")][-1]
            assert first["currentSongId"] == songs[0].pk and first["queueIds"] == [songs[1].pk]

            # Gus votes from both tabs on both processes at once: one vote.
            barrier = threading.Barrier(2)

            def vote(socket):
                barrier.wait()
                socket.send("vote:skip", {"songId": songs[0].pk})

            threads = [threading.Thread(target=vote, args=(tab,)) for tab in (gus_tab1, gus_tab2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            tally = h.expect("vote:update")
            assert tally == {"songId": songs[0].pk, "votes": 1, "needed": 2, "skipped": False}  # 3 present
            h.nothing_of("vote:update", within=0.5)  # the other tab's vote changed nothing
            h.nothing_of("playback:update", within=0.1)

            # Greta's vote makes a majority, though guests do not control playback here.
            greta_socket.send("vote:skip", {})
            assert h.expect("vote:update") == {"songId": songs[0].pk, "votes": 2, "needed": 2, "skipped": True}
            skipped = h.expect("playback:update")
            assert update_at(greta_socket, skipped["revision"]) == skipped and skipped["currentSongId"] == songs[1].pk
            assert skipped["track"] == first["track"] + 1 and skipped["queueIds"] == []
            greta_socket.send("vote:skip", {"songId": songs[0].pk})  # a late vote for the old song
            assert greta_socket.expect("error")["code"] == "conflict"
    session.refresh_from_db()
    assert session.track == first["track"] + 1


def test_only_the_votes_of_those_present_count(server, session, host, guests, songs):
    gus, greta = guests
    troll = UserFactory(name="Troll")
    h, g1, g2, t = joined(server, session.code, host, gus, greta, troll)
    with h, g1, g2:
        h.send("playback:play", {"songId": songs[0].pk})
        h.expect("playback:update")
        t.send("vote:skip", {})
        assert h.expect("vote:update")["votes"] == 1  # of 4 present: 3 needed
        h.send("participant:remove", {"userId": troll.pk})
        assert t.closed_with() == 4403
        g1.send("vote:skip", {})
        assert h.expect("vote:update") == {"songId": songs[0].pk, "votes": 1, "needed": 2, "skipped": False}
        h.nothing_of("playback:update", within=0.3)  # the troll's vote went with the troll


def test_a_second_play_or_a_seek_keeps_a_pending_start(server, session, host, guests, songs):
    (h,) = joined(server, session.code, host)
    with h:
        h.send("playback:ready", {"songId": songs[0].pk})  # a player that says ready: starts wait
        h.send("playback:play", {"songId": songs[1].pk})
        pending = h.expect("playback:update")
        assert pending["startAt"] - time.time() > 1.5  # waiting for the ready (cap: 2 s)
        h.send("playback:play")  # a double tap
        again = h.expect("playback:update")
        assert again["startAt"] == pending["startAt"]
        h.send("playback:seek", {"currentTime": 30})
        seeked = h.expect("playback:update")
        assert seeked["startAt"] == pending["startAt"] and seeked["currentTime"] == 30


# --- reactions ----------------------------------------------------------------------------------


def test_reactions_are_pinned_to_the_second_sent_to_everyone_throttled_and_kept(server, session, host, guests, songs):
    guest = guests[0]
    h, g = joined(server, session.code, host, guest)
    with h, g:
        h.send("playback:play", {"songId": songs[0].pk, "currentTime": 42})
        h.expect("playback:update")
        g.send("reaction:add", {"emoji": "👍🏽"})
        reaction = h.expect("reaction:added")
        assert g.expect("reaction:added") == reaction
        assert reaction["emoji"] == "👍🏽" and reaction["songId"] == songs[0].pk
        assert reaction["user"]["id"] == guest.pk and 42 <= reaction["position"] < 44
        g.send("reaction:add", {"emoji": "🔥"})  # at once: over 2 a second
        assert g.expect("error")["code"] == "rate_limited"
        for not_an_emoji in ("hello", "", "👍" * 2, "^", "\u2800", "👍" + "\u0336" * 15, "<script>"):
            time.sleep(0.5)
            g.send("reaction:add", {"emoji": not_an_emoji})
            assert g.expect("error")["code"] == "validation_error"
        time.sleep(0.5)
        g.send("reaction:add", {"emoji": "1️⃣"})  # a keycap is an emoji too
        assert h.expect("reaction:added")["emoji"] == "1️⃣"
    status, body = call(server, guest, "GET", f"/api/session/{session.code}/reactions")
    assert status == 200 and [r["emoji"] for r in body["reactions"]] == ["👍🏽", "1️⃣"]
    stranger = UserFactory()
    assert call(server, stranger, "GET", f"/api/session/{session.code}/reactions")[0] == 404


# --- the end: recap and history ------------------------------------------------------------------


def test_the_end_makes_a_recap_playlist_crediting_who_added_each_song(server, session, host, guests, songs):
    gus, greta = guests
    h, g1, g2 = joined(server, session.code, host, gus, greta)
    with h, g1, g2:
        status, body = call(server, gus, "POST", f"/api/session/{session.code}/recap")
        assert status == 200 and body["recap"] == {"requested": True, "playlistId": None}
        g1.send("queue:add", {"songId": songs[1].pk})
        h.expect("playback:update")
        h.send("playback:play", {"songId": songs[0].pk})
        update = h.expect("playback:update")
        time.sleep(max(0.0, update["startAt"] - time.time()) + 0.2)
        h.send("playback:next")
        update = h.expect("playback:update")
        time.sleep(max(0.0, update["startAt"] - time.time()) + 0.2)
        assert call(server, host, "POST", f"/api/session/{session.code}/end")[0] == 200
        assert h.closed_with() == 4410

    def recap_of(user):
        participant = SessionParticipant.objects.get(session=session, user=user)
        playlist = Playlist.objects.get(pk=participant.recap_id, owner=user)
        entries = PlaylistSong.objects.filter(playlist=playlist).order_by("position")
        return playlist, [(e.song_id, e.added_by_id) for e in entries]

    expected = [(songs[0].pk, host.pk), (songs[1].pk, gus.pk)]
    playlist, entries = recap_of(host)
    assert entries == expected and playlist.name == "Friday recap" and not playlist.is_public
    assert recap_of(gus)[1] == expected
    assert SessionParticipant.objects.get(session=session, user=greta).recap_id is None  # did not ask
    # Greta asks afterwards: made now, once.
    status, body = call(server, greta, "POST", f"/api/session/{session.code}/recap")
    assert status == 200 and body["recap"]["playlistId"] == recap_of(greta)[0].pk
    assert (
        call(server, greta, "POST", f"/api/session/{session.code}/recap")[1]["recap"]["playlistId"]
        == body["recap"]["playlistId"]
    )

    status, body = call(server, greta, "GET", f"/api/session/{session.code}/history")
    assert status == 200
    assert [(p["song"]["id"], p["addedBy"]["id"]) for p in body["played"]] == expected
    assert call(server, UserFactory(), "GET", f"/api/session/{session.code}/history")[0] == 404


# --- invites and removal -----------------------------------------------------------------------


def test_an_invite_lets_a_stranger_in_and_a_removed_guest_needs_a_new_one(server, session, host, guests):
    stranger = guests[0]
    assert call(server, stranger, "POST", f"/api/session/{session.code}/invite")[0] == 403  # not the host
    status, body = call(server, host, "POST", f"/api/session/{session.code}/invite", {"hours": 2})
    assert status == 201
    invite = body["invite"]
    assert invite["code"] == session.code and invite["qr"] == invite["url"] and invite["token"] in invite["url"]

    status, body = call(server, stranger, "POST", "/api/session/invite/join", {"invite": invite["token"]})
    assert status == 200 and stranger.pk in [p["id"] for p in body["session"]["participants"]]
    h, s = joined(server, session.code, host, stranger)
    with h:
        with s:
            h.send("participant:remove", {"userId": stranger.pk})
            assert s.closed_with() == 4403
        assert h.expect("participant:left")["user"]["id"] == stranger.pk
        # Back by the code, or by the same invite: no.
        with session_socket(server, session.code, stranger) as again:
            assert again.closed_with() == 4403
        status, body = call(server, stranger, "POST", "/api/session/invite/join", {"invite": invite["token"]})
        assert status == 403 and body["code"] == "permission_denied"
        # Nor do they read what the session says from now on (its chat may carry a new invite).
        for method, path in [("GET", "messages"), ("GET", "history"), ("GET", "reactions"), ("POST", "recap")]:
            assert call(server, stranger, method, f"/api/session/{session.code}/{path}")[0] == 404
        # A new invite from the host: welcome back.
        time.sleep(0.01)
        fresh = call(server, host, "POST", f"/api/session/{session.code}/invite")[1]["invite"]["token"]
        assert call(server, stranger, "POST", "/api/session/invite/join", {"invite": fresh})[0] == 200
        with session_socket(server, session.code, stranger) as back:
            assert back.expect("session:state")["code"] == session.code


def test_a_forged_or_expired_invite_is_refused_and_changes_nothing(server, session, host, guests):
    from django.core import signing

    from listening_sessions.services.lifecycle import INVITE_SALT

    stranger = guests[0]
    token = call(server, host, "POST", f"/api/session/{session.code}/invite")[1]["invite"]["token"]
    forged = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    assert call(server, stranger, "POST", "/api/session/invite/join", {"invite": forged})[0] == 404
    # One the server signed an hour ago, for an hour (the test shares the server's SECRET_KEY).
    now = time.time()
    expired = signing.dumps({"s": session.pk, "iat": now - 3600, "exp": now - 1}, salt=INVITE_SALT)
    status, body = call(server, stranger, "POST", "/api/session/invite/join", {"invite": expired})
    assert status == 404 and "expired" in body["message"]
    assert not SessionParticipant.objects.filter(session=session, user=stranger).exists()
    assert call(server, host, "POST", f"/api/session/{session.code}/invite", {"hours": 1000})[0] == 400
    assert ListeningSession.objects.get(pk=session.pk).is_active


# --- the whole party, on two processes ----------------------------------------------------------


def test_a_party_on_two_processes_starts_together_votes_reacts_and_ends_with_a_recap(
    static_root, session, host, guests, songs
):
    gus, greta = guests
    with (
        app_server(static_root=static_root, env=PARTY) as one,
        app_server(static_root=static_root, env=PARTY) as two,
    ):
        (h,) = joined(one, session.code, host)
        g1, g2 = joined(two, session.code, gus, greta)
        with h, g1, g2:
            g1.send("queue:add", {"songId": songs[1].pk})
            h.send("playback:play", {"songId": songs[0].pk})
            started = update_at(h, 2)
            # One start instant for all, across processes.
            assert update_at(g1, 2)["startAt"] == update_at(g2, 2)["startAt"] == started["startAt"]
            time.sleep(max(0.0, started["startAt"] - time.time()) + 0.1)
            g2.send("reaction:add", {"emoji": "🎉"})
            assert h.expect("reaction:added")["songId"] == songs[0].pk
            for guest_socket in (g1, g2):
                guest_socket.send("vote:skip", {"songId": songs[0].pk})
            skipped = update_at(h, 3)
            assert skipped["currentSongId"] == songs[1].pk and skipped["startAt"] is not None
            time.sleep(max(0.0, skipped["startAt"] - time.time()) + 0.1)
            assert call(one, host, "POST", f"/api/session/{session.code}/end")[0] == 200
            assert g1.closed_with() == g2.closed_with() == 4410
    recap = SessionParticipant.objects.get(session=session, user=host).recap
    assert recap is not None
    credited = PlaylistSong.objects.filter(playlist=recap).order_by("position").values_list("song_id", "added_by_id")
    assert list(credited) == [(songs[0].pk, host.pk), (songs[1].pk, gus.pk)]
