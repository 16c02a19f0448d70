"""Staff manage accounts in the Django admin."""

import pytest
from django.urls import reverse

from accounts.models import EmailCode, Login, User
from tests.factories import UserFactory
from tests.support.admin import change_form_data
from tests.support.auth import auth_client
from tests.support.jobs import run_pending_jobs

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(email="staff@example.com", is_staff=True, is_superuser=True))
    return client


def changelist(staff_client, **params):
    return staff_client.get(reverse("admin:accounts_user_changelist"), params)


def test_users_are_searchable_by_email_and_name(staff_client, listener):
    UserFactory(email="someone@example.com", name="Someone Else")
    by_email = changelist(staff_client, q="listener@")
    assert by_email.status_code == 200 and list(by_email.context["cl"].result_list) == [listener]
    assert list(changelist(staff_client, q="Lena").context["cl"].result_list) == [listener]


def test_users_filter_by_verified_active_and_staff(staff_client, listener):
    pending = UserFactory(is_email_verified=False)
    assert list(changelist(staff_client, is_email_verified__exact="0").context["cl"].result_list) == [pending]
    assert changelist(staff_client, is_active__exact="1").status_code == 200
    staff_only = changelist(staff_client, is_staff__exact="1").context["cl"].result_list
    assert [u.email for u in staff_only] == ["staff@example.com"]


def test_change_page_shows_settings_inline(staff_client, listener):
    response = staff_client.get(reverse("admin:accounts_user_change", args=[listener.pk]))
    assert response.status_code == 200
    assert b"Audio quality" in response.content and b"Equalizer" in response.content


def run_action(staff_client, action, users, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return staff_client.post(
            reverse("admin:accounts_user_changelist"), {"action": action, "_selected_action": [u.pk for u in users]}
        )


def test_verify_action(staff_client, django_capture_on_commit_callbacks):
    pending = UserFactory(is_email_verified=False)
    run_action(staff_client, "verify_email", [pending], django_capture_on_commit_callbacks)
    pending.refresh_from_db()
    assert pending.is_email_verified


def test_deactivate_action_revokes_logins(staff_client, listener, django_capture_on_commit_callbacks):
    Login.objects.create(user=listener, refresh_jti="abc")
    run_action(staff_client, "deactivate", [listener], django_capture_on_commit_callbacks)
    listener.refresh_from_db()
    assert not listener.is_active
    assert Login.objects.get(user=listener).revoked_reason == "deactivated"


def test_unticking_active_on_the_change_form_revokes_logins(staff_client, listener, django_capture_on_commit_callbacks):
    Login.objects.create(user=listener, refresh_jti="abc")
    url = reverse("admin:accounts_user_change", args=[listener.pk])
    form = staff_client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None and k != "is_active"}
    data.update(
        {
            "groups": [],
            "user_permissions": [],
            "settings-TOTAL_FORMS": "0",
            "settings-INITIAL_FORMS": "0",
            "logins-TOTAL_FORMS": "1",
            "logins-INITIAL_FORMS": "1",
            "logins-0-id": Login.objects.get().pk,
            "logins-0-user": listener.pk,
        }
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors if response.context else ""
    listener.refresh_from_db()
    assert not listener.is_active
    assert Login.objects.get().revoked_at is not None


def test_resend_code_action_emails_a_new_code(staff_client, mailoutbox, django_capture_on_commit_callbacks):
    pending = UserFactory(is_email_verified=False)
    run_action(staff_client, "resend_code", [pending], django_capture_on_commit_callbacks)
    assert not mailoutbox  # queued for the worker, not sent from the admin's request
    assert run_pending_jobs() == ["accounts.send_email_code"]
    assert [m.to for m in mailoutbox] == [[pending.email]]
    assert EmailCode.objects.filter(user=pending).count() == 1


def test_admin_is_for_staff_only(client, listener):
    client.force_login(listener)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 302
    assert User.objects.count() == 1


# --- staff edits reach API readers at once -------------------------------------------------


def test_a_staff_rename_shows_in_me_at_once(staff_client, listener, django_capture_on_commit_callbacks):
    client = auth_client(listener)
    assert client.get("/api/user/me").json()["user"]["name"] == "Lena Listener"  # now cached
    url = reverse("admin:accounts_user_change", args=[listener.pk])
    data = change_form_data(staff_client, url, name="Lena Renamed")
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, data).status_code == 302
    assert client.get("/api/user/me").json()["user"]["name"] == "Lena Renamed"


def test_staff_settings_edits_follow_the_apis_rules(staff_client, listener, django_capture_on_commit_callbacks):
    client = auth_client(listener)
    client.get("/api/user/settings")  # makes the row
    url = reverse("admin:accounts_user_change", args=[listener.pk])
    bad = change_form_data(staff_client, url, **{"settings-0-equalizer": '{"bands": [1, 2]}'})
    response = staff_client.post(url, bad)
    assert response.status_code == 200
    assert "10 elements" in str(response.context["inline_admin_formsets"][0].formset.errors)
    good = change_form_data(
        staff_client, url, **{"settings-0-theme": "light", "settings-0-equalizer": '{"preset": "rock"}'}
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert staff_client.post(url, good).status_code == 302
    settings = client.get("/api/user/settings").json()["settings"]
    assert settings["theme"] == "light"
    assert settings["equalizer"]["preset"] == "rock" and settings["equalizer"]["bands"][0] == 5.0
