"""The Playlists section of API.md for owner, collaborator, stranger and anonymous."""

import pytest

from library.models import Play
from musicapp.platform import scoped_cache
from playlists.models import Playlist, PlaylistCollaborator
from playlists.tests.conftest import song_ids
from tests.factories import PlaylistFactory, SongFactory, UserFactory
from tests.support.auth import auth_client
from tests.support.media import image_bytes, upload

pytestmark = pytest.mark.django_db
KEYS = {
    "id",
    "name",
    "desc",
    "banner",
    "songIds",
    "isPublic",
    "collaborative",
    "owner",
    "collaborators",
    "songCount",
    "createdAt",
    "updatedAt",
}


def test_create_a_playlist(owner_api, owner):
    response = owner_api.post(
        "/api/playlist", {"name": "Focus", "desc": "deep work", "isPublic": True, "collaborative": False}, format="json"
    )
    assert response.status_code == 201
    body = response.json()["playlist"]
    assert set(body) == KEYS | {"songs"}
    assert (body["name"], body["isPublic"], body["songIds"], body["songCount"]) == ("Focus", True, [], 0)
    assert body["owner"] == {"id": owner.pk, "name": owner.name, "avatar": None}


@pytest.mark.parametrize(
    ("payload", "field"),
    [({}, "name"), ({"name": "x" * 101}, "name"), ({"name": "ok", "isPublic": "maybe"}, "isPublic")],
)
def test_create_rejects_bad_input(owner_api, payload, field):
    response = owner_api.post("/api/playlist", payload, format="json")
    assert response.status_code == 400 and field in response.json()["errors"]
    assert not Playlist.objects.exists()


def test_owner_and_collaborator_read_songs_in_order(owner_api, collaborator_api, playlist):
    for client in (owner_api, collaborator_api):
        body = client.get(f"/api/playlist/{playlist.pk}").json()["playlist"]
        assert body["songIds"] == song_ids(playlist) == [s["id"] for s in body["songs"]]
        assert [c["name"] for c in body["collaborators"]] == ["Cora Collaborator"]


def test_a_stranger_learns_nothing_about_a_private_playlist(stranger_api, api, playlist):
    for client in (stranger_api, api):
        response = client.get(f"/api/playlist/{playlist.pk}")
        assert response.status_code == 404
        assert response.json() == client.get("/api/playlist/aaaaaaaaaaaaaaaaaaaaaaaa").json()
    assert stranger_api.patch(f"/api/playlist/{playlist.pk}", {"name": "x"}, format="json").status_code == 404
    assert (
        stranger_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": SongFactory().pk}, format="json").status_code
        == 404
    )


def test_anyone_reads_a_public_playlist_but_only_members_edit_it(stranger_api, api, playlist):
    Playlist.objects.filter(pk=playlist.pk).update(is_public=True)
    assert api.get(f"/api/playlist/{playlist.pk}").status_code == 200
    assert stranger_api.get(f"/api/playlist/{playlist.pk}").status_code == 200
    assert stranger_api.patch(f"/api/playlist/{playlist.pk}", {"name": "x"}, format="json").status_code == 403
    assert (
        stranger_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": SongFactory().pk}, format="json").status_code
        == 403
    )
    assert api.patch(f"/api/playlist/{playlist.pk}", {"name": "x"}, format="json").status_code == 401


def test_only_the_owner_changes_and_deletes(owner_api, collaborator_api, playlist):
    assert collaborator_api.patch(f"/api/playlist/{playlist.pk}", {"name": "Mine"}, format="json").status_code == 403
    assert collaborator_api.delete(f"/api/playlist/{playlist.pk}").status_code == 403
    response = owner_api.patch(f"/api/playlist/{playlist.pk}", {"name": "Long Drive", "isPublic": True}, format="json")
    assert response.status_code == 200 and response.json()["playlist"]["name"] == "Long Drive"
    assert owner_api.delete(f"/api/playlist/{playlist.pk}").status_code == 200
    assert owner_api.get(f"/api/playlist/{playlist.pk}").status_code == 404


def test_collaborator_can_add_and_remove_songs(collaborator_api, playlist):
    song = SongFactory()
    response = collaborator_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": song.pk}, format="json")
    assert response.status_code == 200 and response.json()["playlist"]["songIds"][-1] == song.pk
    assert playlist.entries.get(song=song).added_by.name == "Cora Collaborator"
    response = collaborator_api.delete(f"/api/playlist/{playlist.pk}/songs/{song.pk}")
    assert response.status_code == 200 and song.pk not in response.json()["playlist"]["songIds"]


def test_turning_collaborative_off_keeps_collaborators_read_only(owner_api, collaborator_api, playlist):
    owner_api.patch(f"/api/playlist/{playlist.pk}", {"collaborative": False}, format="json")
    body = collaborator_api.get(f"/api/playlist/{playlist.pk}").json()["playlist"]
    assert [c["name"] for c in body["collaborators"]] == ["Cora Collaborator"]
    response = collaborator_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": SongFactory().pk}, format="json")
    assert response.status_code == 403


def test_add_at_a_position_shifts_the_rest(owner_api, playlist):
    before, song = song_ids(playlist), SongFactory()
    owner_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": song.pk, "position": 1}, format="json")
    assert song_ids(playlist) == [before[0], song.pk, *before[1:]]
    assert list(playlist.entries.order_by("position").values_list("position", flat=True)) == [0, 1, 2, 3]


def test_a_song_appears_once(owner_api, playlist):
    response = owner_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": song_ids(playlist)[0]}, format="json")
    assert response.status_code == 409


def test_unknown_song_is_404_and_malformed_is_400(owner_api, playlist):
    assert (
        owner_api.post(
            f"/api/playlist/{playlist.pk}/songs", {"songId": "aaaaaaaaaaaaaaaaaaaaaaaa"}, format="json"
        ).status_code
        == 404
    )
    assert owner_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": "x"}, format="json").status_code == 400
    assert owner_api.delete(f"/api/playlist/{playlist.pk}/songs/{SongFactory().pk}").status_code == 404


def test_removal_keeps_positions_dense(owner_api, playlist):
    first, middle, last = song_ids(playlist)
    owner_api.delete(f"/api/playlist/{playlist.pk}/songs/{middle}")
    assert list(playlist.entries.order_by("position").values_list("song_id", "position")) == [(first, 0), (last, 1)]
    playlist.refresh_from_db()
    assert playlist.song_count == 2


def test_reorder_accepts_a_permutation(owner_api, playlist):
    reversed_ids = song_ids(playlist)[::-1]
    response = owner_api.put(f"/api/playlist/{playlist.pk}/order", {"songIds": reversed_ids}, format="json")
    assert response.status_code == 200 and response.json()["playlist"]["songIds"] == reversed_ids
    assert song_ids(playlist) == reversed_ids


@pytest.mark.parametrize("change", ["drop", "extra", "duplicate"])
def test_reorder_rejects_non_permutation(owner_api, playlist, change):
    ids = song_ids(playlist)
    proposed = {"drop": ids[:-1], "extra": [*ids, SongFactory().pk], "duplicate": [ids[0], ids[0], ids[1]]}[change]
    response = owner_api.put(f"/api/playlist/{playlist.pk}/order", {"songIds": proposed}, format="json")
    assert response.status_code == 409
    assert song_ids(playlist) == ids


def test_collaborators_cannot_invite_or_remove_others(collaborator_api, stranger, playlist):
    other = UserFactory()
    PlaylistCollaborator.objects.create(playlist=playlist, user=other)
    assert (
        collaborator_api.post(
            f"/api/playlist/{playlist.pk}/collaborators", {"email": stranger.email}, format="json"
        ).status_code
        == 403
    )
    assert collaborator_api.delete(f"/api/playlist/{playlist.pk}/collaborators/{other.pk}").status_code == 403


def test_a_collaborator_may_leave(collaborator_api, collaborator, playlist):
    response = collaborator_api.delete(f"/api/playlist/{playlist.pk}/collaborators/{collaborator.pk}")
    assert response.status_code == 200
    assert not PlaylistCollaborator.objects.filter(playlist=playlist, user=collaborator).exists()
    assert collaborator_api.get(f"/api/playlist/{playlist.pk}").status_code == 404


def test_owner_removes_a_collaborator(owner_api, collaborator, playlist):
    response = owner_api.delete(f"/api/playlist/{playlist.pk}/collaborators/{collaborator.pk}")
    assert response.status_code == 200 and response.json()["playlist"]["collaborators"] == []


def test_banner_upload(owner_api, collaborator_api, playlist, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    path = f"/api/playlist/{playlist.pk}/banner"
    assert (
        collaborator_api.post(path, {"banner": upload("b.png", image_bytes())}, format="multipart").status_code == 403
    )
    bad = owner_api.post(path, {"banner": upload("b.png", b"not an image")}, format="multipart")
    assert bad.status_code == 400 and "banner" in bad.json()["errors"]
    response = owner_api.post(path, {"banner": upload("b.jpg", image_bytes("JPEG"))}, format="multipart")
    assert response.status_code == 200 and response.json()["playlist"]["banner"].endswith(".webp")


def test_my_list_has_owned_and_collaborating_newest_first(owner, collaborator_api, playlist, django_assert_num_queries):
    mine = PlaylistFactory(owner=UserFactory())
    PlaylistCollaborator.objects.create(playlist=mine, user=playlist.collaborator_links.get().user)
    PlaylistFactory(owner=owner)  # not the collaborator's
    with django_assert_num_queries(4):  # token user, playlists, collaborators, song ids
        body = collaborator_api.get("/api/playlist/list").json()
    assert [p["id"] for p in body["playlists"]] == [mine.pk, playlist.pk]
    assert set(body["playlists"][0]) == KEYS and body["hasMore"] is False


def test_public_list_shows_only_public_to_anyone(api, owner):
    public = PlaylistFactory.create_batch(3, is_public=True)
    PlaylistFactory(owner=owner)
    body = api.get("/api/playlist/public", {"limit": 2}).json()
    assert [p["id"] for p in body["playlists"]] == [public[2].pk, public[1].pk] and body["hasMore"] is True
    rest = api.get("/api/playlist/public", {"limit": 2, "cursor": body["nextCursor"]}).json()
    assert [p["id"] for p in rest["playlists"]] == [public[0].pk]


def test_public_list_query_count_is_constant(api, django_assert_num_queries):
    PlaylistFactory.create_batch(2, is_public=True)
    with django_assert_num_queries(3):
        api.get("/api/playlist/public")
    from django.core.cache import cache

    cache.clear()
    scoped_cache.clear_local()  # and this process's copies: a cold start
    PlaylistFactory.create_batch(8, is_public=True)
    with django_assert_num_queries(3):
        api.get("/api/playlist/public")


def test_caches_follow_changes(owner_api, collaborator_api, playlist, django_capture_on_commit_callbacks):
    owner_api.get(f"/api/playlist/{playlist.pk}")
    collaborator_api.get("/api/playlist/list")
    song = SongFactory()
    with django_capture_on_commit_callbacks(execute=True):
        owner_api.post(f"/api/playlist/{playlist.pk}/songs", {"songId": song.pk}, format="json")
    assert song.pk in owner_api.get(f"/api/playlist/{playlist.pk}").json()["playlist"]["songIds"]
    listed = collaborator_api.get("/api/playlist/list").json()["playlists"][0]
    assert listed["songCount"] == 4 and listed["songIds"][-1] == song.pk


def test_plays_in_a_playlist_context_must_name_a_readable_playlist_holding_the_song(owner_api, stranger, playlist):
    song_id = song_ids(playlist)[0]
    ok = owner_api.post(
        "/api/recently-played",
        {"songId": song_id, "playDuration": 10, "contextType": "playlist", "contextId": playlist.pk},
        format="json",
    )
    assert ok.status_code == 201
    elsewhere = owner_api.post(
        "/api/recently-played",
        {"songId": SongFactory().pk, "playDuration": 10, "contextType": "playlist", "contextId": playlist.pk},
        format="json",
    )
    assert elsewhere.status_code == 400
    strangers = auth_client(stranger).post(
        "/api/recently-played",
        {"songId": song_id, "playDuration": 10, "contextType": "playlist", "contextId": playlist.pk},
        format="json",
    )
    assert strangers.status_code == 400
    assert Play.objects.count() == 1
