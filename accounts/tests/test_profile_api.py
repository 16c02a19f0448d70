"""GET/PATCH /api/user/me and POST /api/user/avatar."""

import io
import json

import pytest
from django.test import override_settings
from PIL import Image
from rest_framework.test import APIClient

from musicapp.platform import scoped_cache
from tests.support.auth import auth_client
from tests.support.media import image_bytes, upload
from tests.support.servers import fake_http_service

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media_root(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def test_me_returns_the_user(listener):
    response = auth_client(listener).get("/api/user/me")
    assert response.status_code == 200
    assert response.json() == {
        "success": True,
        "user": {
            "id": listener.pk,
            "email": listener.email,
            "name": "Lena Listener",
            "avatar": None,
            "bio": "",
            "isEmailVerified": True,
            "createdAt": listener.created_at.isoformat().replace("+00:00", "Z"),
        },
    }


def test_me_needs_a_token(api):
    assert api.get("/api/user/me").status_code == 401
    assert api.patch("/api/user/me", {"name": "X"}, format="json").status_code == 401


def test_me_is_one_query_cold_and_none_hot(listener, django_assert_num_queries):
    client = auth_client(listener)
    with django_assert_num_queries(1):  # the token's user, once; the payload is built from it
        client.get("/api/user/me")
    cached = scoped_cache.cached_for_user(listener.pk, "me", "user:json", lambda: None)  # the bytes sent
    assert json.loads(cached)["user"]["email"] == listener.email
    with django_assert_num_queries(0):
        client.get("/api/user/me")


def test_patch_me_changes_name_and_bio_and_drops_the_cache(call, listener):
    client = auth_client(listener)
    client.get("/api/user/me")
    response = call(client, "patch", "/api/user/me", {"name": "Lena L.", "bio": "Jazz at night."})
    assert response.status_code == 200
    assert (response.json()["user"]["name"], response.json()["user"]["bio"]) == ("Lena L.", "Jazz at night.")
    assert client.get("/api/user/me").json()["user"]["name"] == "Lena L."


@pytest.mark.parametrize(("payload", "field"), [({"name": "x" * 101}, "name"), ({"bio": "x" * 501}, "bio")])
def test_patch_me_rejects_overlong_fields_and_changes_nothing(call, listener, payload, field):
    response = call(auth_client(listener), "patch", "/api/user/me", payload)
    assert response.status_code == 400 and field in response.json()["errors"]
    listener.refresh_from_db()
    assert listener.name == "Lena Listener" and listener.bio == ""


def test_patch_me_ignores_fields_that_are_not_the_profile(call, listener):
    call(auth_client(listener), "patch", "/api/user/me", {"email": "evil@example.com", "isEmailVerified": False})
    listener.refresh_from_db()
    assert listener.email == "listener@example.com" and listener.is_email_verified


# --- avatar -------------------------------------------------------------------------------


def post_avatar(call, client, file):
    return call(client, "post", "/api/user/avatar", {"avatar": file}, format="multipart")


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_avatar_upload_is_stored_as_a_square_thumbnail(call, listener, fmt):
    client = auth_client(listener)
    response = post_avatar(call, client, upload(f"me.{fmt.lower()}", image_bytes(fmt, (640, 480))))
    assert response.status_code == 200, response.content
    url = response.json()["user"]["avatar"]
    assert url.startswith("http://127.0.0.1:8000/media/avatars/") and url.endswith(".webp")
    served = APIClient().get(url.removeprefix("http://127.0.0.1:8000"))
    assert served.status_code == 200
    assert "immutable" in served["Cache-Control"]
    with Image.open(io.BytesIO(b"".join(served.streaming_content))) as image:
        assert (image.format, image.size) == ("WEBP", (256, 256))
    assert client.get("/api/user/me").json()["user"]["avatar"] == url


def test_new_avatar_replaces_and_deletes_the_old_file(call, listener, settings):
    client = auth_client(listener)
    post_avatar(call, client, upload("a.png", image_bytes("PNG", color=(1, 2, 3))))
    post_avatar(call, client, upload("b.png", image_bytes("PNG", color=(9, 8, 7))))
    files = list((settings.MEDIA_ROOT / "avatars" / listener.pk).iterdir())
    assert len(files) == 1


def test_avatar_is_judged_by_content_not_name(call, listener):
    response = post_avatar(call, auth_client(listener), upload("me.png", b"GIF89a not really an image"))
    assert response.status_code == 400
    assert response.json()["errors"] == {"avatar": ["Upload a JPEG, PNG or WebP image."]}
    listener.refresh_from_db()
    assert listener.avatar == ""


def test_avatar_refuses_other_image_formats(call, listener):
    response = post_avatar(call, auth_client(listener), upload("me.gif", image_bytes("GIF"), "image/gif"))
    assert response.status_code == 400


def test_avatar_over_the_size_limit_is_413(call, listener, settings):
    settings.AVATAR_MAX_BYTES = 50_000
    response = post_avatar(call, auth_client(listener), upload("big.png", image_bytes() + b"\0" * 60_000))
    assert response.status_code == 413
    assert "larger" in response.json()["message"]
    listener.refresh_from_db()
    assert listener.avatar == ""


def test_avatar_over_5_mb_is_refused_before_it_is_read(call, listener):
    response = post_avatar(call, auth_client(listener), upload("huge.png", image_bytes() + b"\0" * (6 * 1024 * 1024)))
    assert response.status_code == 413
    assert "5 MB" in response.json()["message"]


def test_avatar_without_a_file_is_400(call, listener):
    response = call(auth_client(listener), "post", "/api/user/avatar", {}, format="multipart")
    assert response.status_code == 400 and "avatar" in response.json()["errors"]


def test_avatar_needs_a_token(call, api):
    assert post_avatar(call, api, upload("me.png", image_bytes())).status_code == 401


def test_avatar_goes_to_cloudinary_when_configured(call, listener):
    # A fake Cloudinary at the HTTP boundary: the real SDK uploads to it.
    routes = {
        ("POST", "/v1_1/demo/image/upload"): (
            200,
            {
                "public_id": f"avatars/{listener.pk}/abc",
                "version": 1,
                "resource_type": "image",
                "format": "png",
                "secure_url": "https://res.cloudinary.com/demo/image/upload/v1/avatars/abc.png",
            },
        )
    }
    with (
        fake_http_service(routes) as (base, seen),
        override_settings(CLOUDINARY_URL=f"cloudinary://key:secret@demo?upload_prefix={base}"),
    ):
        response = post_avatar(call, auth_client(listener), upload("me.png", image_bytes()))
        url = response.json()["user"]["avatar"]
    assert response.status_code == 200, response.content
    assert seen[0]["path"] == "/v1_1/demo/image/upload"
    assert b'name="api_key"' in seen[0]["body"] and b'name="signature"' in seen[0]["body"]
    assert url.startswith("https://res.cloudinary.com/demo/image/upload/")
    assert "c_fill" in url and "w_256" in url and "h_256" in url and "q_auto" in url and "f_auto" in url
    assert url.endswith(f"avatars/{listener.pk}/abc")
