"""Image bombs: a small file that declares a huge number of pixels is refused before it is
decoded, and no image an upload may carry costs more than about 100 MB to process."""

import io
import json
import subprocess
import sys

import pytest
from django.conf import settings
from PIL import Image

from tests.factories import PlaylistFactory
from tests.support.auth import auth_client
from tests.support.media import upload
from tests.support.servers import process_env

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def bomb() -> bytes:
    """12000 x 12000 pixels in a few hundred KB (what the hostile probe sent)."""
    out = io.BytesIO()
    Image.new("RGB", (12000, 12000)).save(out, "PNG", optimize=True)
    return out.getvalue()


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_bomb_is_small_on_the_wire(bomb):
    assert len(bomb) < 1024 * 1024


def test_a_bomb_avatar_is_refused_with_the_reason(owner, bomb):
    response = auth_client(owner).post("/api/user/avatar", {"avatar": upload("b.png", bomb)}, format="multipart")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "validation_error" and "12000 x 12000" in body["errors"]["avatar"][0]
    owner.refresh_from_db()
    assert owner.avatar == ""


def test_a_bomb_banner_is_refused(owner, bomb):
    playlist = PlaylistFactory(owner=owner)
    client = auth_client(owner)
    response = client.post(f"/api/playlist/{playlist.pk}/banner", {"banner": upload("b.png", bomb)}, format="multipart")
    assert response.status_code == 400 and "megapixels" in response.json()["message"]


MEASURE = """
import json, sys, threading, time
import django
django.setup()
import psutil
from django.core.files.uploadedfile import SimpleUploadedFile
from musicapp.adapters import media

data = open(sys.argv[1], "rb").read()
me = psutil.Process()
baseline, peak, done = me.memory_info().rss, 0, threading.Event()

def sample():
    global peak
    while not done.is_set():
        peak = max(peak, me.memory_info().rss)
        time.sleep(0.0005)

sampler = threading.Thread(target=sample)
sampler.start()
try:
    checked = media.check_image(SimpleUploadedFile("i", data), field="image", max_bytes=len(data) + 1)
    media.square_webp(checked, 600)
    outcome = "accepted"
except Exception as exc:
    outcome = type(exc).__name__
done.set()
sampler.join()
print(json.dumps({"outcome": outcome, "peak_growth_mb": (peak - baseline) / 2**20}))
"""


def process(path) -> dict:
    """check_image + square_webp of the file at path in a fresh process, with its peak memory
    growth (the file is made here, so its making does not count)."""
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        cwd=settings.BASE_DIR,
        env=process_env(DJANGO_SETTINGS_MODULE="musicapp.settings"),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def image_file(tmp_path, name: str, size: tuple[int, int], mode: str, fmt: str):
    path = tmp_path / name
    Image.new(mode, size, (200, 30, 90, 255)[: len(mode)]).save(path, fmt)
    return path


def test_the_largest_images_allowed_cost_about_100_mb_at_most(tmp_path, bomb):
    side = int(settings.MAX_IMAGE_PIXELS**0.5)
    png = process(image_file(tmp_path, "max.png", (side, side), "RGBA", "PNG"))  # RGBA: the costliest
    assert png["outcome"] == "accepted" and png["peak_growth_mb"] < 110, png
    jpeg_side = int(settings.MAX_JPEG_PIXELS**0.5)
    jpeg = process(image_file(tmp_path, "max.jpg", (jpeg_side, jpeg_side), "RGB", "JPEG"))
    assert jpeg["outcome"] == "accepted" and jpeg["peak_growth_mb"] < 110, jpeg
    (tmp_path / "bomb.png").write_bytes(bomb)
    refused = process(tmp_path / "bomb.png")
    assert refused["outcome"] == "InvalidInput" and refused["peak_growth_mb"] < 20, refused
