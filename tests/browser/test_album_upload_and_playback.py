"""Staff upload an album with real audio in the admin; the SPA's calls then list it, show its
lyrics, and stream and seek its audio: a real browser against the app served by uvicorn,
as `make run` serves it."""

import pytest

from library.models import Album, Lyrics
from library.services import lyrics_save
from tests.factories import PASSWORD, UserFactory
from tests.support.media import image_bytes, wav_bytes
from tests.support.servers import app_server

pytestmark = pytest.mark.django_db(transaction=True)

PLAY_AND_SEEK = """async (url) => {
  const audio = new Audio(url);
  audio.muted = true;
  await new Promise((ok, fail) => { audio.oncanplay = ok; audio.onerror = () => fail(audio.error); });
  await audio.play();
  audio.currentTime = 3.0;
  await new Promise((ok) => { audio.onseeked = ok; });
  return {duration: audio.duration, position: audio.currentTime, paused: audio.paused};
}"""


@pytest.fixture
def server(settings, tmp_path, static_root):
    settings.MEDIA_ROOT = tmp_path / "media"
    with app_server(static_root=static_root) as url:
        yield url


def test_staff_upload_an_album_and_the_spa_lists_shows_lyrics_streams_and_seeks(server, page, tmp_path):
    staff = UserFactory(is_staff=True, is_superuser=True)
    tracks = {"01 Porch Light.wav": wav_bytes(4.0), "02 Moth Waltz.wav": wav_bytes(5.0)}
    (tmp_path / "cover.png").write_bytes(image_bytes("PNG"))
    for name, data in tracks.items():
        (tmp_path / name).write_bytes(data)

    page.goto(f"{server}/admin/login/")
    page.fill("#id_username", staff.email)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.goto(f"{server}/admin/library/album/add/")
    page.fill("#id_name", "Low Lanterns")
    page.set_input_files("#id_cover_upload", str(tmp_path / "cover.png"))
    page.set_input_files("#id_audio_files", [str(tmp_path / name) for name in tracks])
    page.click("input[name=_save]")
    assert "Added 2 song(s)" in page.inner_text(".messagelist")

    album = Album.objects.get(name="Low Lanterns")
    first = album.songs.get(track_number=1)
    lyrics_save(lyrics=Lyrics(song=first, plain="Porch light on", synced_lrc="[00:01.00]Porch light on"))

    # What the SPA does: list albums, open one, fetch lyrics, then play and seek a song.
    albums = page.evaluate("async () => (await (await fetch('/api/album/list')).json()).albums")
    assert [a["name"] for a in albums] == ["Low Lanterns"] and albums[0]["songCount"] == 2
    detail = page.evaluate(f"async () => (await (await fetch('/api/album/{album.pk}')).json()).album")
    assert [(s["trackNumber"], s["name"], s["duration"]) for s in detail["songs"]] == [
        (1, "01 Porch Light", 4.0),
        (2, "02 Moth Waltz", 5.0),
    ]
    lyrics = page.evaluate(f"async () => (await (await fetch('/api/song/{first.pk}/lyrics')).json()).lyrics")
    assert lyrics == {"plain": "Porch light on", "synced": [{"time": 1.0, "text": "Porch light on"}]}

    statuses = []
    page.on("response", lambda r: statuses.append(r.status) if "/media/audio/" in r.url else None)
    played = page.evaluate(PLAY_AND_SEEK, detail["songs"][0]["file"])
    assert played["duration"] == pytest.approx(4.0, abs=0.05)
    assert played["position"] == pytest.approx(3.0, abs=0.25)
    assert 206 in statuses, f"the browser never got a byte range: {statuses}"
