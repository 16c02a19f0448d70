"""Staff build the catalog in the admin: uploads checked by content, duration read from the
audio, LRC validated, deletes remove media, and nothing half-saved when something fails."""

import pytest
from django.core.files.storage import default_storage
from django.urls import reverse

from library.models import Album, Lyrics, Song
from tests.factories import AlbumFactory, ArtistFactory, GenreFactory, SongFactory, UserFactory
from tests.support.admin import change_form_data
from tests.support.media import image_bytes, upload, wav_bytes

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def song_form(**overrides):
    return {
        "name": "Brake Song",
        "desc": "",
        "genre": GenreFactory(slug="indie").pk,
        "track_number": "1",
        "lyrics-TOTAL_FORMS": "0",
        "lyrics-INITIAL_FORMS": "0",
        "lyrics-MIN_NUM_FORMS": "0",
        "lyrics-MAX_NUM_FORMS": "1",
        **overrides,
    }


def add_song(staff, capture, **overrides):
    with capture(execute=True):
        return staff.post(reverse("admin:library_song_add"), song_form(**overrides))


def stored(key: str) -> bool:
    return default_storage.exists(key.removeprefix("local:"))


def test_staff_upload_a_song_and_its_duration_comes_from_the_file(staff, django_capture_on_commit_callbacks):
    album = AlbumFactory()
    response = add_song(
        staff,
        django_capture_on_commit_callbacks,
        album=album.pk,
        audio_upload=upload("brake.wav", wav_bytes(2.5), "audio/wav"),
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    song = Song.objects.get()
    assert song.duration == 2.5 and song.album == album
    assert song.file.startswith("local:audio/") and song.file.endswith(".wav") and stored(song.file)


@pytest.mark.parametrize(
    ("name", "data"),
    [
        ("song.mp3", b"ID3\x03\x00\x00\x00" + b"\x00" * 500),
        ("song.wav", b"RIFF....WAVEfmt garbage"),
        ("cover.mp3", image_bytes()),
    ],
)
def test_corrupt_or_non_audio_files_are_refused_with_a_clear_message(
    staff, django_capture_on_commit_callbacks, name, data
):
    response = add_song(staff, django_capture_on_commit_callbacks, audio_upload=upload(name, data, "audio/mpeg"))
    assert response.status_code == 200
    assert "not an audio file we can play" in str(response.context["adminform"].form.errors["audio_upload"])
    assert not Song.objects.exists()


def test_a_song_needs_audio(staff, django_capture_on_commit_callbacks):
    response = add_song(staff, django_capture_on_commit_callbacks)
    assert "needs its audio" in str(response.context["adminform"].form.errors)


def test_cover_is_checked_by_content(staff, django_capture_on_commit_callbacks):
    response = add_song(
        staff,
        django_capture_on_commit_callbacks,
        audio_upload=upload("a.wav", wav_bytes()),
        cover_upload=upload("cover.png", b"not an image at all"),
    )
    assert "JPEG, PNG or WebP" in str(response.context["adminform"].form.errors["cover_upload"])
    assert not Song.objects.exists() and not default_storage.exists("audio")


def test_malformed_lrc_is_refused_with_its_line_number(staff, django_capture_on_commit_callbacks):
    response = add_song(
        staff,
        django_capture_on_commit_callbacks,
        audio_upload=upload("a.wav", wav_bytes()),
        **{
            "lyrics-TOTAL_FORMS": "1",
            "lyrics-0-plain": "words",
            "lyrics-0-synced_lrc": "[00:01.00]fine\n[00:02.00]fine too\nbroken",
        },
    )
    assert response.status_code == 200
    assert "Line 3:" in str(response.context["inline_admin_formsets"][0].formset.errors)
    assert not Song.objects.exists() and not Lyrics.objects.exists()


def test_valid_lrc_is_stored_parsed(staff, django_capture_on_commit_callbacks):
    add_song(
        staff,
        django_capture_on_commit_callbacks,
        audio_upload=upload("a.wav", wav_bytes()),
        **{
            "lyrics-TOTAL_FORMS": "1",
            "lyrics-0-plain": "words",
            "lyrics-0-synced_lrc": "[offset:1000]\n[00:03.00]three\n[00:02.00]two",
        },
    )
    assert Lyrics.objects.get().synced == [{"time": 1.0, "text": "two"}, {"time": 2.0, "text": "three"}]


def test_album_upload_with_several_audio_files_makes_songs_in_order(staff, django_capture_on_commit_callbacks):
    artist = ArtistFactory()
    files = [upload(f"{n:02d} {title}.wav", wav_bytes(1 + n / 2)) for n, title in enumerate(["Intro", "Hit"], 1)]
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:library_album_add"),
            {
                "name": "Debut",
                "desc": "",
                "artist": artist.pk,
                "bg_colour": "#101010",
                "cover_upload": upload("cover.jpg", image_bytes("JPEG"), "image/jpeg"),
                "audio_files": files,
                "songs-TOTAL_FORMS": "0",
                "songs-INITIAL_FORMS": "0",
                "songs-MIN_NUM_FORMS": "0",
                "songs-MAX_NUM_FORMS": "1000",
            },
        )
    assert response.status_code == 302, response.context["adminform"].form.errors
    album = Album.objects.get()
    assert album.image.startswith("local:covers/") and stored(album.image)
    songs = list(album.songs.order_by("track_number"))
    assert [(s.track_number, s.name, s.duration, s.artist_id) for s in songs] == [
        (1, "01 Intro", 1.5, artist.pk),
        (2, "02 Hit", 2.0, artist.pk),
    ]


def test_album_upload_refuses_a_bad_file_and_stores_nothing(staff, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(
            reverse("admin:library_album_add"),
            {
                "name": "Debut",
                "desc": "",
                "bg_colour": "#101010",
                "audio_files": [upload("good.wav", wav_bytes()), upload("bad.wav", b"nope")],
                "songs-TOTAL_FORMS": "0",
                "songs-INITIAL_FORMS": "0",
            },
        )
    assert "bad.wav:" in str(response.context["adminform"].form.errors["audio_files"])
    assert not Album.objects.exists() and not Song.objects.exists() and not default_storage.exists("audio")


def test_bulk_delete_removes_rows_and_their_media(staff, django_capture_on_commit_callbacks):
    for n in range(2):
        add_song(
            staff,
            django_capture_on_commit_callbacks,
            name=f"S{n}",
            track_number=str(n),
            audio_upload=upload("a.wav", wav_bytes(1 + n)),
        )
    keys = list(Song.objects.values_list("file", flat=True))
    assert all(stored(key) for key in keys)
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:library_song_changelist"),
            {
                "action": "delete_selected",
                "_selected_action": list(Song.objects.values_list("pk", flat=True)),
                "post": "yes",
            },
        )
    assert not Song.objects.exists()
    assert not any(stored(key) for key in keys)


def test_deleting_a_song_keeps_a_file_another_song_still_uses(staff, django_capture_on_commit_callbacks):
    same_audio = wav_bytes(1.0)
    for n in range(2):
        add_song(
            staff,
            django_capture_on_commit_callbacks,
            name=f"S{n}",
            track_number=str(n),
            audio_upload=upload("a.wav", same_audio),
        )
    first, second = Song.objects.order_by("name")
    assert first.file == second.file  # content-addressed: stored once
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:library_song_delete", args=[first.pk]), {"post": "yes"})
    assert stored(second.file)


def test_a_failed_save_leaves_no_file_behind(django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.db import IntegrityError

    from library.audio import check_audio
    from library.services import song_save

    album = AlbumFactory()
    Song.objects.create(name="taken", file="local:audio/x.mp3", duration=1, album=album, track_number=1)
    audio = check_audio(SimpleUploadedFile("a.wav", wav_bytes(1.25)))
    with pytest.raises(IntegrityError):
        song_save(song=Song(name="clash", album=album, track_number=1), audio=audio)
    assert Song.objects.count() == 1
    assert not default_storage.exists("audio") or not default_storage.listdir("audio")[1]


def test_admin_edit_retires_the_cached_api_response(staff, client, django_capture_on_commit_callbacks):
    add_song(staff, django_capture_on_commit_callbacks, audio_upload=upload("a.wav", wav_bytes()))
    song = Song.objects.get()
    assert client.get(f"/api/song/{song.pk}").json()["song"]["name"] == "Brake Song"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("admin:library_song_change", args=[song.pk]), song_form(name="Brake Song II"))
    assert response.status_code == 302
    assert client.get(f"/api/song/{song.pk}").json()["song"]["name"] == "Brake Song II"


def test_song_list_view_searches_and_filters(staff, django_capture_on_commit_callbacks):
    add_song(staff, django_capture_on_commit_callbacks, audio_upload=upload("a.wav", wav_bytes()))
    changelist = reverse("admin:library_song_changelist")
    assert staff.get(changelist, {"q": "brake"}).context["cl"].result_count == 1
    assert staff.get(changelist, {"q": "nothing"}).context["cl"].result_count == 0
    assert staff.get(changelist, {"genre__id__exact": Song.objects.get().genre_id}).status_code == 200
    assert staff.get(reverse("admin:library_album_changelist"), {"q": "x"}).status_code == 200
    assert staff.get(reverse("admin:library_artist_changelist"), {"q": "x"}).status_code == 200


# --- every staff edit reaches API readers at once (the cached responses are retired) -------


def admin_save(staff, url, capture, **changes):
    data = change_form_data(staff, url, **changes)
    with capture(execute=True):
        response = staff.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors


def test_lyrics_edited_and_deleted_on_the_song_page_show_at_once(staff, client, django_capture_on_commit_callbacks):
    song = SongFactory()
    Lyrics.objects.create(song=song, plain="old words")
    assert client.get(f"/api/song/{song.pk}/lyrics").json()["lyrics"]["plain"] == "old words"  # now cached
    url = reverse("admin:library_song_change", args=[song.pk])
    admin_save(staff, url, django_capture_on_commit_callbacks, **{"lyrics-0-plain": "new words"})
    assert client.get(f"/api/song/{song.pk}/lyrics").json()["lyrics"]["plain"] == "new words"
    admin_save(staff, url, django_capture_on_commit_callbacks, **{"lyrics-0-DELETE": "on"})
    assert client.get(f"/api/song/{song.pk}/lyrics").status_code == 404


def test_a_genre_renamed_shows_on_its_songs_at_once(staff, client, django_capture_on_commit_callbacks):
    song = SongFactory(genre=GenreFactory(slug="indie", name="Indie"))
    assert client.get(f"/api/song/{song.pk}").json()["song"]["genre"] == "Indie"
    url = reverse("admin:library_genre_change", args=[song.genre.pk])
    admin_save(staff, url, django_capture_on_commit_callbacks, name="Indie Rock")
    assert client.get(f"/api/song/{song.pk}").json()["song"]["genre"] == "Indie Rock"


def test_songs_edited_and_removed_in_the_album_page_list_show_at_once(
    staff, client, django_capture_on_commit_callbacks
):
    album = AlbumFactory()
    first, second = SongFactory(album=album, track_number=1), SongFactory(album=album, track_number=2)
    assert [s["name"] for s in client.get(f"/api/album/{album.pk}").json()["album"]["songs"]] == [
        first.name,
        second.name,
    ]
    url = reverse("admin:library_album_change", args=[album.pk])
    admin_save(staff, url, django_capture_on_commit_callbacks, **{"songs-0-name": "Renamed", "songs-1-DELETE": "on"})
    assert [s["name"] for s in client.get(f"/api/album/{album.pk}").json()["album"]["songs"]] == ["Renamed"]
    assert not Song.objects.filter(pk=second.pk).exists()
