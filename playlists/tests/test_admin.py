import pytest
from django.urls import reverse

from tests.factories import UserFactory

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
