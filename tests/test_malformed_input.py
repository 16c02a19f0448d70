"""Malformed input is answered with the envelope, never a 500: JSON nested hundreds deep,
thousands of fields, hundreds of files, and bodies of a type an endpoint does not read."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from tests.support.auth import auth_client

pytestmark = pytest.mark.django_db


def deep(levels: int) -> str:
    return '{"a":' * levels + "1" + "}" * levels


SHAPES = {
    "object": lambda n: deep(n),
    "array": lambda n: "[" * n + "]" * n,
    "under-a-field": lambda n: '{"email": "a@example.com", "password": ' + deep(n) + "}",
    "under-an-unknown-field": lambda n: '{"equalizer": ' + deep(n) + "}",  # once a RecursionError: a 500
}


@pytest.mark.parametrize("levels", [490, 5000, 100_000])
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize(
    ("method", "path", "signed_in"),
    [("post", "/api/auth/login", False), ("post", "/api/auth/register", False), ("patch", "/api/user/settings", True)],
)
def test_deeply_nested_json_is_never_a_500(owner, levels, shape, method, path, signed_in):
    client = auth_client(owner) if signed_in else APIClient()
    response = getattr(client, method)(path, SHAPES[shape](levels), content_type="application/json")
    assert response.status_code < 500, response.content[:200]
    if response.status_code >= 400:  # too deep to read (parse_error), or read and refused
        assert response.json()["code"] in {"parse_error", "validation_error"}


def test_a_form_body_on_a_json_endpoint_is_refused_not_ignored(owner):
    client = auth_client(owner)
    response = client.patch("/api/user/me", "name=Changed", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json()["code"] == "unsupported_media_type"
    assert client.get("/api/user/me").json()["user"]["name"] == "Olive Owner"


def test_thousands_of_fields_are_a_413(owner):
    fields = {f"f{n}": "x" for n in range(1500)}
    response = auth_client(owner).post("/api/user/avatar", fields, format="multipart")
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_hundreds_of_files_are_a_413(owner):
    files = {f"f{n}": SimpleUploadedFile(f"{n}.png", b"x") for n in range(150)}
    response = auth_client(owner).post("/api/user/avatar", files, format="multipart")
    assert response.status_code == 413 and response.json()["code"] == "too_large"


def test_thousands_of_fields_outside_the_api_are_the_envelope_too(client):
    response = client.post("/admin/login/", {f"f{n}": "x" for n in range(1500)})
    assert response.status_code in (400, 413) and response.json()["success"] is False
