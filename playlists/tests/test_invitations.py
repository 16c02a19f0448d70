"""Inviting collaborators by email without telling whether the address has an account: the
owner gets the same answer either way; the invitee accepts once signed in with the address."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from playlists.models import PlaylistCollaborator, PlaylistInvitation
from tests.factories import UserFactory
from tests.support.auth import STRONG_PASSWORD, auth_client, last_code
from tests.support.jobs import run_pending_jobs

pytestmark = pytest.mark.django_db


def invite(client, playlist, email):
    return client.post(f"/api/playlist/{playlist.pk}/collaborators", {"email": email}, format="json")


def invitations(client) -> list[dict]:
    response = client.get("/api/playlist/invitations")
    assert response.status_code == 200
    return response.json()["invitations"]


def test_the_owner_gets_the_same_answer_whether_or_not_the_address_has_an_account(
    owner_api, stranger, playlist, mailoutbox
):
    known = invite(owner_api, playlist, stranger.email.upper())
    unknown = invite(owner_api, playlist, "nobody@example.com")
    assert known.status_code == unknown.status_code == 200
    strip = lambda body: {**body, "message": body["message"].split(" to ")[0]}  # noqa: E731 - the address itself
    assert strip(known.json()) == strip(unknown.json())
    assert known.json()["playlist"]["collaborators"] == unknown.json()["playlist"]["collaborators"]
    assert not PlaylistCollaborator.objects.filter(user=stranger).exists()  # nobody joins without accepting
    run_pending_jobs()
    assert sorted(m.to[0] for m in mailoutbox) == sorted([stranger.email, "nobody@example.com"])
    assert all("invited you to collaborate" in m.subject for m in mailoutbox)


def test_the_invitee_accepts_and_becomes_a_collaborator(owner_api, stranger, stranger_api, playlist):
    invite(owner_api, playlist, stranger.email)
    (pending,) = invitations(stranger_api)
    assert pending["playlist"] == {
        "id": playlist.pk,
        "name": "Road Trip",
        "owner": {"id": playlist.owner.pk, "name": "Olive Owner", "avatar": None},
    }
    assert stranger_api.get(f"/api/playlist/{playlist.pk}").status_code == 404  # private until accepted
    response = stranger_api.post(f"/api/playlist/invitations/{pending['id']}/accept")
    assert response.status_code == 200
    assert stranger.pk in [c["id"] for c in response.json()["playlist"]["collaborators"]]
    assert invitations(stranger_api) == []
    assert [p["id"] for p in stranger_api.get("/api/playlist/list").json()["playlists"]] == [playlist.pk]


def test_an_address_without_an_account_accepts_after_signing_up(owner_api, playlist, mailoutbox, call):
    invite(owner_api, playlist, "newcomer@example.com")
    call(
        APIClient(),
        "post",
        "/api/auth/register",
        {"email": "newcomer@example.com", "password": STRONG_PASSWORD, "name": "N"},
    )
    code = last_code(mailoutbox, "newcomer@example.com")
    tokens = call(APIClient(), "post", "/api/auth/verify-otp", {"email": "newcomer@example.com", "otp": code}).json()
    newcomer = APIClient()
    newcomer.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['accessToken']}")
    (pending,) = invitations(newcomer)
    assert newcomer.post(f"/api/playlist/invitations/{pending['id']}/accept").status_code == 200


def test_declining_and_cancelling(owner_api, stranger, stranger_api, playlist):
    invite(owner_api, playlist, stranger.email)
    (pending,) = invitations(stranger_api)
    assert stranger_api.delete(f"/api/playlist/invitations/{pending['id']}").status_code == 200
    assert invitations(stranger_api) == [] and not PlaylistCollaborator.objects.filter(user=stranger).exists()
    invite(owner_api, playlist, stranger.email)
    (listed,) = owner_api.get(f"/api/playlist/{playlist.pk}/collaborators").json()["invitations"]
    assert listed["email"] == stranger.email
    assert owner_api.delete(f"/api/playlist/{playlist.pk}/invitations/{listed['id']}").status_code == 200
    assert invitations(stranger_api) == []


def test_nobody_else_sees_or_accepts_an_invitation(owner_api, stranger, playlist, collaborator_api):
    invite(owner_api, playlist, stranger.email)
    invitation = PlaylistInvitation.objects.get()
    other = auth_client(UserFactory())
    assert invitations(other) == []
    assert other.post(f"/api/playlist/invitations/{invitation.pk}/accept").status_code == 404
    assert collaborator_api.get(f"/api/playlist/{playlist.pk}/collaborators").status_code == 403
    assert (
        collaborator_api.post(
            f"/api/playlist/{playlist.pk}/collaborators", {"email": "x@example.com"}, format="json"
        ).status_code
        == 403
    )


def test_a_lapsed_invitation_is_gone(owner_api, stranger, stranger_api, playlist):
    invite(owner_api, playlist, stranger.email)
    PlaylistInvitation.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert invitations(stranger_api) == []
    invitation = PlaylistInvitation.objects.get()
    assert stranger_api.post(f"/api/playlist/invitations/{invitation.pk}/accept").status_code == 404
    run_pending_jobs()


@override_settings(INVITE_RATE="2/h")
def test_invitations_are_rate_limited_per_owner(owner_api, playlist):
    statuses = [invite(owner_api, playlist, f"friend{n}@example.com").status_code for n in range(3)]
    assert statuses == [200, 200, 429]
