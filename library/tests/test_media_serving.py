"""Local media: audio streamed with HTTP Range (seeking), images cached for a year."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

SIZE = 10_000
DATA = bytes(i % 251 for i in range(SIZE))


@pytest.fixture
def audio_url(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    default_storage.save("audio/abc.wav", ContentFile(DATA))
    return "/media/audio/abc.wav"


def body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def test_whole_file_advertises_ranges(client, audio_url):
    response = client.get(audio_url)
    assert response.status_code == 200
    assert body(response) == DATA
    assert response["Accept-Ranges"] == "bytes" and response["Content-Type"] == "audio/x-wav"
    assert "immutable" in response["Cache-Control"] and response["ETag"]


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [
        ("bytes=0-99", 0, 99),
        ("bytes=5000-5999", 5000, 5999),
        ("bytes=-500", SIZE - 500, SIZE - 1),
        ("bytes=9000-", 9000, SIZE - 1),
        ("bytes=9990-20000", 9990, SIZE - 1),
        ("bytes=-20000", 0, SIZE - 1),
    ],
)
def test_single_ranges_are_206_with_content_range(client, audio_url, header, first, last):
    response = client.get(audio_url, HTTP_RANGE=header, HTTP_ACCEPT_ENCODING="gzip")
    assert response.status_code == 206
    assert response["Content-Range"] == f"bytes {first}-{last}/{SIZE}"
    assert int(response["Content-Length"]) == last - first + 1
    assert body(response) == DATA[first : last + 1]
    assert not response.has_header("Content-Encoding")


@pytest.mark.parametrize(
    "header", ["bytes=20000-", "bytes=500-100", "bytes=-0", "bytes=abc", "bytes=-", "items=0-10", "bytes=0-10,20-30"]
)
def test_bad_or_unsatisfiable_ranges_are_416(client, audio_url, header):
    response = client.get(audio_url, HTTP_RANGE=header)
    assert response.status_code == 416
    assert response["Content-Range"] == f"bytes */{SIZE}"


def test_if_range_with_the_current_etag_gets_the_range(client, audio_url):
    etag = client.get(audio_url)["ETag"]
    assert client.get(audio_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE=etag).status_code == 206


def test_if_range_with_a_stale_etag_gets_the_whole_file(client, audio_url):
    response = client.get(audio_url, HTTP_RANGE="bytes=0-9", HTTP_IF_RANGE='"stale"')
    assert response.status_code == 200 and body(response) == DATA


def test_if_none_match_is_304(client, audio_url):
    etag = client.get(audio_url)["ETag"]
    response = client.get(audio_url, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304 and response.content == b""


def test_head_has_headers_and_no_body(client, audio_url):
    response = client.head(audio_url)
    assert response.status_code == 200 and response["Accept-Ranges"] == "bytes"


def test_missing_files_and_escapes_are_404(client, audio_url):
    assert client.get("/media/audio/nope.wav").status_code == 404
    assert client.get("/media/../settings.py").status_code == 404
    assert client.get("/media/%2e%2e/%2e%2e/etc/passwd").status_code == 404


def test_other_methods_are_refused(client, audio_url):
    assert client.post(audio_url).status_code == 405
