"""The media store with CLOUDINARY_URL set. Cloudinary is faked at the HTTP boundary: a local
HTTP server answers the upload API, and the real `cloudinary` SDK talks to it."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from library.audio import check_audio
from library.models import Song
from library.serializers import SongSerializer
from library.services import song_save
from musicapp.adapters import media
from tests.factories import AlbumFactory
from tests.support.media import image_bytes, wav_bytes
from tests.support.servers import fake_http_service

pytestmark = pytest.mark.django_db


@pytest.fixture
def cloudinary():
    routes = {
        ("POST", "/v1_1/demo/video/upload"): (
            200,
            {"public_id": "audio/abc", "format": "wav", "version": 1, "resource_type": "video"},
        ),
        ("POST", "/v1_1/demo/image/upload"): (
            200,
            {"public_id": "covers/def", "format": "png", "version": 1, "resource_type": "image"},
        ),
        ("POST", "/v1_1/demo/video/destroy"): (200, {"result": "ok"}),
    }
    with (
        fake_http_service(routes) as (base, seen),
        override_settings(CLOUDINARY_URL=f"cloudinary://key:secret@demo?upload_prefix={base}"),
    ):
        yield seen


def test_audio_is_uploaded_as_a_video_resource_and_served_with_q_auto(cloudinary):
    audio = check_audio(SimpleUploadedFile("a.wav", wav_bytes()))
    cover = media.check_image(SimpleUploadedFile("c.png", image_bytes()), field="image", max_bytes=10**7)
    song = song_save(song=Song(name="Cloud", album=AlbumFactory(image="")), audio=audio, cover=cover)
    assert [r["path"] for r in cloudinary] == ["/v1_1/demo/video/upload", "/v1_1/demo/image/upload"]
    assert song.file == "cloudinary:video:audio/abc.wav"
    body = SongSerializer(song).data
    assert body["file"] == "https://res.cloudinary.com/demo/video/upload/q_auto/v1/audio/abc.wav"
    assert body["image"].startswith("https://res.cloudinary.com/demo/image/upload/")
    for part in ("c_fill", "w_300", "h_300", "q_auto", "f_auto"):
        assert part in body["image"]


def test_deleting_cloudinary_audio_calls_destroy_with_the_bare_public_id(cloudinary):
    media.delete_now("cloudinary:video:audio/abc.wav")
    destroy = cloudinary[-1]
    assert destroy["path"] == "/v1_1/demo/video/destroy"
    assert b'name="public_id"\r\n\r\naudio/abc\r\n' in destroy["body"]
