"""GET/PATCH /api/user/settings."""

import pytest

from accounts.equalizer import PRESETS
from accounts.models import UserSettings
from tests.support.auth import auth_client

pytestmark = pytest.mark.django_db

DEFAULTS = {
    "theme": "dark",
    "audioQuality": "high",
    "autoplay": True,
    "crossfadeSeconds": 0,
    "normalizeVolume": True,
    "equalizer": {"enabled": False, "preset": "flat", "bands": [0.0] * 10},
    "shuffle": False,
    "loop": "off",
    "privateSession": False,
    "language": "en",
}


def test_settings_are_created_with_defaults_on_first_read(listener):
    assert not UserSettings.objects.exists()
    response = auth_client(listener).get("/api/user/settings")
    assert response.status_code == 200
    assert response.json() == {"success": True, "settings": DEFAULTS}
    assert UserSettings.objects.filter(user=listener).count() == 1


def test_patch_changes_only_what_is_sent(listener):
    client = auth_client(listener)
    response = client.patch(
        "/api/user/settings",
        {"theme": "light", "crossfadeSeconds": 12, "loop": "all", "privateSession": True, "language": "pt-BR"},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["settings"] == {
        **DEFAULTS,
        "theme": "light",
        "crossfadeSeconds": 12,
        "loop": "all",
        "privateSession": True,
        "language": "pt-BR",
    }
    assert client.get("/api/user/settings").json()["settings"]["theme"] == "light"


def test_a_named_preset_fills_the_bands(listener):
    response = auth_client(listener).patch(
        "/api/user/settings", {"equalizer": {"preset": "rock", "enabled": True}}, format="json"
    )
    assert response.json()["settings"]["equalizer"] == {
        "enabled": True,
        "preset": "rock",
        "bands": [float(b) for b in PRESETS["rock"]],
    }


def test_own_bands_make_the_preset_custom(listener):
    bands = [1, -2, 3, -4, 5, -6, 7, -8, 9, -10]
    response = auth_client(listener).patch("/api/user/settings", {"equalizer": {"bands": bands}}, format="json")
    assert response.json()["settings"]["equalizer"] == {
        "enabled": False,
        "preset": "custom",
        "bands": [float(b) for b in bands],
    }


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"theme": "neon"}, "theme"),
        ({"audioQuality": "ultra"}, "audioQuality"),
        ({"crossfadeSeconds": 13}, "crossfadeSeconds"),
        ({"crossfadeSeconds": -1}, "crossfadeSeconds"),
        ({"loop": "twice"}, "loop"),
        ({"language": "English!"}, "language"),
        ({"autoplay": "sometimes"}, "autoplay"),
        ({"equalizer": {"bands": [0] * 9}}, "equalizer.bands"),
        ({"equalizer": {"bands": [0] * 9 + [12.5]}}, "equalizer.bands.9"),
        ({"equalizer": {"preset": "loud"}}, "equalizer.preset"),
        ({"equalizer": {"preset": "rock", "bands": [0] * 10}}, "equalizer.bands"),
    ],
)
def test_invalid_settings_are_refused_and_change_nothing(listener, payload, field):
    client = auth_client(listener)
    client.get("/api/user/settings")
    response = client.patch("/api/user/settings", payload, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert client.get("/api/user/settings").json()["settings"] == DEFAULTS


def test_settings_need_a_token(api):
    assert api.get("/api/user/settings").status_code == 401
    assert api.patch("/api/user/settings", {"theme": "light"}, format="json").status_code == 401


def test_each_user_has_their_own_settings(listener, stranger):
    auth_client(listener).patch("/api/user/settings", {"theme": "light"}, format="json")
    assert auth_client(stranger).get("/api/user/settings").json()["settings"]["theme"] == "dark"
