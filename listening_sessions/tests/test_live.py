"""Listening sessions over real WebSockets: uvicorn serves the ASGI app as `make run` does (two
of them where the session spans processes), and real clients (`websockets`) take part."""

import json
import time
import urllib.request

import psutil
import pytest

from listening_sessions import services, tasks
from listening_sessions.models import ListeningSession
from tests.factories import SongFactory, UserFactory
from tests.support.servers import app_server
from tests.support.ws import refused_with, session_socket, token

pytestmark = pytest.mark.django_db(transaction=True)

FAST_PRESENCE = {"SESSION_LEAVE_GRACE_S": "1", "SESSION_HEARTBEAT_S": "1", "SESSION_PRESENCE_TTL_S": "3"}


@pytest.fixture(scope="module")
def server(static_root):
    """One server for the module's tests (each test's rows are its own: new ids every time)."""
    with app_server(static_root=static_root, env=FAST_PRESENCE) as url:
        yield url


@pytest.fixture
def people(db):
    return UserFactory(name="Hana Host"), UserFactory(name="Gus Guest")


@pytest.fixture
def session(people):
    host, _guest = people
    return services.session_create(host=host, name="Friday")


@pytest.fixture
def songs(db):
    return SongFactory.create_batch(4, duration=180.0)


def http(server, user, method, path, body=None):
    request = urllib.request.Request(
        f"{server}{path}",
        method=method,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token(user)}"},
    )
    with urllib.request.urlopen(request, timeout=20) as response:
        return json.loads(response.read())


def test_connecting_joins_and_sends_the_state(server, session, people):
    host, guest = people
    with session_socket(server, session.code, host) as host_socket:
        state = host_socket.expect("session:state")
        assert state["code"] == session.code and state["serverTime"] > 0
        with session_socket(server, session.code.lower(), guest) as guest_socket:
            guest_state = guest_socket.expect("session:state")
            assert [p["name"] for p in guest_state["participants"]] == ["Hana Host", "Gus Guest"]
            joined = host_socket.expect("participant:joined")
            assert joined == {"user": {"id": guest.pk, "name": "Gus Guest", "avatar": None}, "participantCount": 2}


def test_two_participants_stay_in_step_through_play_pause_seek_next_prev_and_queue(server, session, people, songs):
    host, guest = people
    with session_socket(server, session.code, host) as h, session_socket(server, session.code, guest) as g:
        h.expect("session:state"), g.expect("session:state")

        def both(kind, data=None, sender=h):
            sender.send(kind, data)
            seen = h.expect("playback:update"), g.expect("playback:update")
            assert seen[0] == seen[1]
            return seen[0]

        for song in songs[1:]:
            update = both("queue:add", {"songId": song.pk}, sender=g)  # any participant queues
        assert update["queueIds"] == [s.pk for s in songs[1:]]
        assert update["queue"][0] == {"songId": songs[1].pk, "addedBy": guest.pk}
        update = both("playback:play", {"songId": songs[0].pk})
        assert (update["currentSongId"], update["isPlaying"], update["by"]["id"]) == (songs[0].pk, True, host.pk)
        assert update["currentTime"] < 1 and abs(update["serverTime"] - time.time()) < 5
        update = both("playback:seek", {"currentTime": 42.5})
        assert 42.5 <= update["currentTime"] < 43.5
        update = both("playback:pause", {"currentTime": 50})
        assert (update["currentTime"], update["isPlaying"]) == (50, False)
        update = both("playback:next")
        assert (update["currentSongId"], update["queueIds"]) == (songs[1].pk, [songs[2].pk, songs[3].pk])
        update = both("playback:prev")  # at 0 s: back to the song before
        assert (update["currentSongId"], update["queueIds"]) == (songs[0].pk, [s.pk for s in songs[1:]])
        update = both("queue:reorder", {"queueIds": [songs[3].pk, songs[1].pk, songs[2].pk]})
        assert update["queueIds"] == [songs[3].pk, songs[1].pk, songs[2].pk]
        update = both("queue:remove", {"index": 0})
        assert update["queueIds"] == [songs[1].pk, songs[2].pk]
        update = both("playback:loop", {"loop": "all"})
        assert update["loop"] == "all" and update["revision"] > 1
    live = ListeningSession.objects.get(pk=session.pk)
    assert (live.current_song_id, live.loop) == (songs[0].pk, "all")  # PostgreSQL holds the truth


def test_a_guest_controls_playback_only_when_the_host_allows(server, session, people, songs):
    host, guest = people
    with session_socket(server, session.code, host) as h, session_socket(server, session.code, guest) as g:
        g.expect("session:state")
        g.send("playback:play", {"songId": songs[0].pk})
        error = g.expect("error")
        assert error["code"] == "permission_denied"
        g.send("queue:reorder", {"queueIds": []})
        assert g.expect("error")["code"] == "permission_denied"  # the host's alone, always
        http(server, host, "PATCH", f"/api/session/{session.code}", {"guestsCanControl": True})
        assert g.expect("session:state")["guestsCanControl"] is True
        g.send("playback:play", {"songId": songs[0].pk})
        assert h.expect("playback:update")["by"]["id"] == guest.pk


def test_bad_commands_get_errors_and_the_socket_stays(server, session, people, songs):
    host, _guest = people
    with session_socket(server, session.code, host) as h:
        h.expect("session:state")
        h.send("playback:play", {"songId": "a" * 24})
        assert h.expect("error")["code"] == "not_found"
        h.send("playback:seek", {"currentTime": "soon"})
        assert h.expect("error")["code"] == "validation_error"
        h.send("queue:remove", {"index": 3})
        assert h.expect("error")["code"] == "not_found"
        h.send("no:such:type", {})
        assert h.expect("error")["code"] == "unknown_type"
        h.send_raw("{not json")
        assert h.expect("error")["code"] == "parse_error"
        h.send("chat:message", {"text": "x" * 20_000})
        assert h.expect("error")["code"] == "too_large"
        h.send("playback:play", {"songId": songs[0].pk})
        assert h.expect("playback:update")["currentSongId"] == songs[0].pk  # still there


def test_a_flood_of_frames_is_throttled(server, session, people):
    host, _guest = people
    with session_socket(server, session.code, host) as h:
        h.expect("session:state")
        for n in range(120):
            h.send("time:ping", {"clientTime": n})
        assert h.expect("error")["code"] == "rate_limited"
        time.sleep(1.5)
        h.send("time:ping", {"clientTime": 7.5})
        # Pongs to the flood's admitted pings may still be on their way under load: skip them.
        while (pong := h.expect("time:pong"))["clientTime"] != 7.5:
            pass
        assert pong["clientTime"] == 7.5 and abs(pong["serverTime"] - time.time()) < 5


def test_chat_is_one_message_a_second_per_user_across_tabs(server, session, people):
    host, guest = people
    with (
        session_socket(server, session.code, host) as tab1,
        session_socket(server, session.code, host) as tab2,
        session_socket(server, session.code, guest) as g,
    ):
        for socket in (tab1, tab2, g):
            socket.expect("session:state")
        tab1.send("chat:message", {"text": "  hello\x00 all\x07  "})
        message = g.expect("chat:message")
        assert message["text"] == "hello all" and message["user"]["id"] == host.pk
        tab2.send("chat:message", {"text": "again"})
        assert tab2.expect("error")["code"] == "rate_limited"
        time.sleep(1.1)
        tab2.send("chat:message", {"text": "again, later"})
        assert g.expect("chat:message")["text"] == "again, later"
        g.send("chat:message", {"text": "   "})
        assert g.expect("error")["code"] == "validation_error"
    history = http(server, guest, "GET", f"/api/session/{session.code}/messages")["messages"]
    assert [m["text"] for m in history] == ["again, later", "hello all"]  # persisted, newest first


def test_two_tabs_are_one_participant(server, session, people):
    host, guest = people
    with session_socket(server, session.code, host) as h:
        h.expect("session:state")
        tab1 = session_socket(server, session.code, guest)
        tab1.expect("session:state")
        h.expect("participant:joined")
        tab2 = session_socket(server, session.code, guest)
        tab2.expect("session:state")
        h.nothing_of("participant:joined", within=1)
        tab1.close()
        h.nothing_of("participant:left", within=2.5)  # the other tab is still there
        tab2.close()
        left = h.expect("participant:left", timeout=15)  # after the grace period
        assert left == {"user": {"id": guest.pk, "name": "Gus Guest", "avatar": None}, "participantCount": 1}


def test_the_host_ending_closes_every_socket_with_4410(server, session, people):
    host, guest = people
    with session_socket(server, session.code, guest) as g:
        g.expect("session:state")
        http(server, host, "POST", f"/api/session/{session.code}/end")
        assert g.expect("session:ended") == {"reason": "ended_by_host"}
        assert g.closed_with() == 4410


def test_expiry_closes_every_socket_with_4410(server, session, people):
    _host, guest = people
    with session_socket(server, session.code, guest) as g:
        g.expect("session:state")
        ListeningSession.objects.filter(pk=session.pk).update(expires_at="2000-01-01T00:00:00Z")
        assert services.sessions_expire() == 1  # what the scheduled job runs
        assert g.expect("session:ended") == {"reason": "expired"}
        assert g.closed_with() == 4410


def test_connections_are_refused_with_ws_md_codes(server, session, people):
    host, _guest = people
    assert refused_with(server, f"/ws/session/{session.code}/") == 4401
    assert refused_with(server, f"/ws/session/{session.code}/?token=garbage") == 4401
    assert refused_with(server, f"/ws/session/ZZZZZZ/?token={token(host)}") == 4404
    assert (
        refused_with(server, f"/ws/session/{session.code}/?token={token(host)}", origin="https://evil.example") == 4403
    )
    ListeningSession.objects.filter(pk=session.pk).update(is_active=False)
    assert refused_with(server, f"/ws/session/{session.code}/?token={token(host)}") == 4404


def test_a_socket_waiting_on_the_database_holds_up_no_other_socket(server, session, people, songs):
    """A command that waits for a row lock (another writer holds the session) must not stop other
    sockets from joining: Channels' database_sync_to_async put every socket's database work on
    one thread, so a reconnect storm or one slow query queued everyone."""
    import psycopg
    from django.db import connection

    host, guest = people
    other = services.session_create(host=UserFactory(), name="Next door")
    with session_socket(server, session.code, host) as h:
        h.expect("session:state")
        db = connection.settings_dict
        with psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
        ) as holder:
            table = ListeningSession._meta.db_table
            holder.execute(f"SELECT 1 FROM {table} WHERE id = %s FOR UPDATE", [session.pk])  # noqa: S608
            h.send("playback:play", {"songId": songs[0].pk})  # waits for the lock, on a socket thread
            time.sleep(0.5)
            started = time.monotonic()
            with session_socket(server, other.code, guest) as g:
                assert g.expect("session:state", timeout=5)["code"] == other.code
            assert time.monotonic() - started < 5
            h.nothing_of("playback:update", within=0.2)  # still waiting
        # The lock is gone (the holder's transaction ended): the command goes through.
        assert h.expect("playback:update")["currentSongId"] == songs[0].pk


def test_connects_past_the_process_limit_are_told_to_come_back_at_once(static_root, session, people):
    """A join storm (every client of a restarted process at once) must not queue joins past
    their clients' patience: past WS_CONNECTS_AT_ONCE under way and WS_CONNECT_QUEUE waiting, a
    socket is closed with 1013 at once, and connects go on as soon as the running one is done."""
    import threading

    import psycopg
    from django.db import connection

    host, guest = people
    limits = {**FAST_PRESENCE, "WS_CONNECTS_AT_ONCE": "1", "WS_CONNECT_QUEUE": "0", "METRICS_TOKEN": "metrics-secret"}
    db = connection.settings_dict
    with (
        app_server(static_root=static_root, env=limits) as server,
        psycopg.connect(
            host=db["HOST"], port=db["PORT"] or 5432, user=db["USER"], password=db["PASSWORD"], dbname=db["NAME"]
        ) as holder,
    ):
        holder.execute(  # another writer holds the session: the first join waits for its lock
            f"SELECT 1 FROM {ListeningSession._meta.db_table} WHERE id = %s FOR UPDATE",  # noqa: S608
            [session.pk],
        )
        states: list[dict] = []

        def first_join() -> None:
            with session_socket(server, session.code, guest) as socket:
                states.append(socket.expect("session:state"))

        first = threading.Thread(target=first_join)
        first.start()
        waiting = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = %s"
        for _ in range(200):  # until the server's join is inside the database, waiting
            with connection.cursor() as cursor:  # (not the holder's: its transaction sees a snapshot)
                cursor.execute(waiting, [db["NAME"]])
                if cursor.fetchone()[0]:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the first join never reached the database")
        assert refused_with(server, f"/ws/session/{session.code}/?token={token(host)}") == 1013
        holder.rollback()  # the lock is gone: the first join goes through
        first.join(timeout=10)
        assert [p["name"] for p in states[0]["participants"]] == ["Hana Host", "Gus Guest"]
        with session_socket(server, session.code, host) as h:  # and the host may come back now
            assert h.expect("session:state")["code"] == session.code
        metrics = urllib.request.Request(f"{server}/metrics", headers={"Authorization": "Bearer metrics-secret"})
        with urllib.request.urlopen(metrics, timeout=10) as response:
            assert 'musicapp_socket_connects_shed_total{reason="queue_full"} 1.0' in response.read().decode()


def test_two_server_processes_share_one_session(static_root, session, people, songs):
    host, guest = people
    with (
        app_server(static_root=static_root, env=FAST_PRESENCE) as one,
        app_server(static_root=static_root, env=FAST_PRESENCE) as two,
        session_socket(one, session.code, host) as h,
        session_socket(two, session.code, guest) as g,
    ):
        h.expect("session:state"), g.expect("session:state")
        g.send("queue:add", {"songId": songs[1].pk})
        for socket in (h, g):  # the guest's command, through the other process, reaches both
            assert socket.expect("playback:update")["queueIds"] == [songs[1].pk]
        h.send("playback:play", {"songId": songs[0].pk})
        from_host = h.expect("playback:update")
        assert g.expect("playback:update") == from_host and from_host["currentSongId"] == songs[0].pk
        g.send("chat:message", {"text": "from the other process"})
        assert h.expect("chat:message")["text"] == "from the other process"


def test_a_server_restart_loses_nothing_and_a_reconnect_gets_the_state_again(static_root, session, people, songs):
    host, _guest = people
    with (
        app_server(static_root=static_root, env=FAST_PRESENCE) as first,
        session_socket(first, session.code, host) as h,
    ):
        h.expect("session:state")
        h.send("queue:add", {"songId": songs[1].pk})
        h.send("playback:play", {"songId": songs[0].pk, "currentTime": 30})
        h.expect("playback:update"), h.expect("playback:update")
    with (
        app_server(static_root=static_root, env=FAST_PRESENCE) as second,
        session_socket(second, session.code, host) as h,
    ):
        state = h.expect("session:state")
    assert (state["currentSongId"], state["isPlaying"], state["queueIds"]) == (songs[0].pk, True, [songs[1].pk])
    assert state["currentTime"] >= 30
    assert state["host"]["id"] == host.pk  # the restart handed nothing on


def test_the_access_token_never_reaches_a_log(static_root, session, people, tmp_path):
    host, _guest = people
    log_path = tmp_path / "server.log"
    # Access log on, at info, as the Procfile's `ws` runs it.
    verbose = {"UVICORN_LOG_LEVEL": "info", "env": {"LOG_LEVEL": "INFO"}}
    with log_path.open("w") as log, app_server(static_root=static_root, log=log, **verbose) as srv:
        with session_socket(srv, session.code, host) as h:
            h.expect("session:state")
        assert refused_with(srv, "/ws/session/ZZZZZZ/?token=not-a-real-token-at-all") == 4401
    text = log_path.read_text()
    assert f"/ws/session/{session.code}/" in text  # the access log did log the connection
    assert token(host) not in text and "not-a-real-token-at-all" not in text
    assert "token=[redacted]" in text


def test_a_participant_whose_sockets_vanish_is_removed_after_the_grace_period(static_root, session, people):
    host, guest = people
    with (
        app_server(static_root=static_root, env=FAST_PRESENCE) as one,
        session_socket(one, session.code, host) as h,
    ):
        h.expect("session:state")
        with app_server(static_root=static_root, env=FAST_PRESENCE) as two:
            g = session_socket(two, session.code, guest)
            g.expect("session:state")
            h.expect("participant:joined")
            port = two.rsplit(":", 1)[1]
            server_two = next(
                p
                for p in psutil.process_iter(["cmdline"])
                if p.info["cmdline"] and f"--port {port}" in " ".join(p.info["cmdline"])
            )
            server_two.kill()  # no close frame, no disconnect handler: the socket just stops
            h.nothing_of("participant:left", within=1)
            time.sleep(3.5)  # SESSION_PRESENCE_TTL_S (3 s here) without a heartbeat
            tasks.sweep_presence(timestamp=0)  # what the worker runs every 20 s
            left = h.expect("participant:left")
    assert left["user"]["id"] == guest.pk and left["participantCount"] == 1
