"""Staff see and edit playlists in the admin; their edits reach API readers at once (and live
listeners: playlists/tests/test_live.py)."""

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.support.admin import add_inline_row, change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_playlists_are_searchable_by_name_and_owner(staff, playlist, owner):
    changelist = reverse("admin:playlists_playlist_changelist")
    assert staff.get(changelist, {"q": "road"}).context["cl"].result_count == 1
    assert staff.get(changelist, {"q": owner.email}).context["cl"].result_count == 1
    assert staff.get(changelist, {"q": "nothing"}).context["cl"].result_count == 0


def test_change_page_shows_songs_in_order_and_collaborators(staff, playlist):
    response = staff.get(reverse("admin:playlists_playlist_change", args=[playlist.pk]))
    assert response.status_code == 200
    formsets = {f.formset.prefix: f.formset for f in response.context["inline_admin_formsets"]}
    entries = [form.instance.position for form in formsets["entries"].forms]
    assert entries == [0, 1, 2]
    assert len(formsets["collaborator_links"].forms) == 1


# --- staff edits reach API readers and live listeners at once ------------------------------


def change_url(playlist) -> str:
    return reverse("admin:playlists_playlist_change", args=[playlist.pk])


def staff_post(staff, url, data, capture):
    with capture(execute=True):
        response = staff.post(url, data)
    assert response.status_code == 302, response.context and response.context["adminform"].form.errors
    return response


def test_staff_making_a_playlist_public_shows_it_to_strangers_at_once(
    staff, playlist, stranger_api, django_capture_on_commit_callbacks
):
    assert stranger_api.get(f"/api/playlist/{playlist.pk}").status_code == 404
    assert APIClient().get("/api/playlist/public").json()["playlists"] == []  # cached empty list
    data = change_form_data(staff, change_url(playlist), is_public=True)
    staff_post(staff, change_url(playlist), data, django_capture_on_commit_callbacks)
    assert stranger_api.get(f"/api/playlist/{playlist.pk}").json()["playlist"]["isPublic"] is True
    assert [p["id"] for p in APIClient().get("/api/playlist/public").json()["playlists"]] == [playlist.pk]


def test_staff_adding_a_collaborator_shows_in_their_list_at_once(
    staff, playlist, stranger, stranger_api, django_capture_on_commit_callbacks
):
    assert stranger_api.get("/api/playlist/list").json()["playlists"] == []  # cached empty list
    data = add_inline_row(change_form_data(staff, change_url(playlist)), "collaborator_links", user=stranger.pk)
    staff_post(staff, change_url(playlist), data, django_capture_on_commit_callbacks)
    assert [p["id"] for p in stranger_api.get("/api/playlist/list").json()["playlists"]] == [playlist.pk]
    assert stranger.pk in [
        c["id"] for c in stranger_api.get(f"/api/playlist/{playlist.pk}").json()["playlist"]["collaborators"]
    ]


def test_staff_removing_a_collaborator_takes_the_playlist_away_at_once(
    staff, playlist, collaborator_api, django_capture_on_commit_callbacks
):
    assert collaborator_api.get(f"/api/playlist/{playlist.pk}").status_code == 200  # now cached
    data = change_form_data(staff, change_url(playlist), **{"collaborator_links-0-DELETE": "on"})
    staff_post(staff, change_url(playlist), data, django_capture_on_commit_callbacks)
    assert collaborator_api.get(f"/api/playlist/{playlist.pk}").status_code == 404
    assert collaborator_api.get("/api/playlist/list").json()["playlists"] == []


def test_staff_deleting_playlists_in_bulk_goes_through_the_service(
    staff, playlist, owner_api, django_capture_on_commit_callbacks
):
    assert len(owner_api.get("/api/playlist/list").json()["playlists"]) == 1
    with django_capture_on_commit_callbacks(execute=True):
        staff.post(
            reverse("admin:playlists_playlist_changelist"),
            {"action": "delete_selected", "_selected_action": [playlist.pk], "post": "yes"},
        )
    assert owner_api.get(f"/api/playlist/{playlist.pk}").status_code == 404
    assert owner_api.get("/api/playlist/list").json()["playlists"] == []
