"""Staff see sessions with participants and chat; ending one and deleting a message reach every
socket at once (through the services)."""

import pytest
from django.urls import reverse

from listening_sessions import services
from listening_sessions.models import ChatMessage, ListeningSession
from tests.factories import UserFactory
from tests.support.admin import change_form_data
from tests.support.servers import app_server
from tests.support.ws import session_socket

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def staff(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.fixture
def server(static_root):
    with app_server(static_root=static_root) as url:
        yield url


def test_staff_see_a_session_with_its_participants_and_chat(staff):
    host = UserFactory(name="Hana Host")
    session = services.session_create(host=host, name="Friday")
    ChatMessage.objects.create(session=session, user=host, text="hello")
    page = staff.get(reverse("admin:listening_sessions_listeningsession_change", args=[session.pk]))
    assert page.status_code == 200 and b"hello" in page.content
    listing = staff.get(reverse("admin:listening_sessions_listeningsession_changelist"), {"q": session.code})
    assert listing.context["cl"].result_count == 1


def test_staff_see_what_a_session_played_and_its_reactions_in_a_fixed_number_of_queries(staff):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from listening_sessions.models import PlayedItem, Reaction
    from tests.factories import SongFactory

    host = UserFactory(name="Hana Host")
    session = services.session_create(host=host, name="Friday")
    url = reverse("admin:listening_sessions_listeningsession_change", args=[session.pk])
    staff.get(url)
    with CaptureQueriesContext(connection) as empty:
        staff.get(url)
    for song in SongFactory.create_batch(5, name="Played tune"):
        PlayedItem.objects.create(session=session, song=song, added_by=host)
        Reaction.objects.create(session=session, user=host, song=song, emoji="🎉", position=12.5)
    with CaptureQueriesContext(connection) as full:
        page = staff.get(url)
    assert page.content.count(b"Played tune") >= 10 and "🎉".encode() in page.content
    assert len(full) == len(empty)  # no query per row


def test_staff_ending_a_session_closes_its_sockets_with_4410(staff, server):
    host = UserFactory()
    session = services.session_create(host=host)
    with session_socket(server, session.code, host) as socket:
        socket.expect("session:state")
        staff.post(
            reverse("admin:listening_sessions_listeningsession_changelist"),
            {"action": "end_sessions", "_selected_action": [session.pk]},
        )
        assert socket.expect("session:ended") == {"reason": "ended_by_staff"}
        assert socket.closed_with() == 4410
    assert not ListeningSession.objects.get(pk=session.pk).is_active


def test_staff_deleting_a_message_tells_every_socket(staff, server):
    host = UserFactory()
    session = services.session_create(host=host)
    message = ChatMessage.objects.create(session=session, user=host, text="oops")
    url = reverse("admin:listening_sessions_listeningsession_change", args=[session.pk])
    with session_socket(server, session.code, host) as socket:
        socket.expect("session:state")
        data = change_form_data(staff, url, **{"messages-0-DELETE": "on"})
        assert staff.post(url, data).status_code == 302
        assert socket.expect("chat:deleted") == {"id": message.pk}
    assert not ChatMessage.objects.exists()
