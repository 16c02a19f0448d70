from django.urls import path, register_converter

import musicapp.platform.converters  # noqa: F401 - registers <oid:...>
from listening_sessions import api


class SessionCodeConverter:
    """<code:...>: a join code, in either case (codes are upper-case)."""

    regex = "[A-Za-z0-9]{4,12}"

    def to_python(self, value: str) -> str:
        return value.upper()

    def to_url(self, value: str) -> str:
        return value


register_converter(SessionCodeConverter, "code")

urlpatterns = [
    path("session", api.CreateSessionView.as_view(), name="session-create"),
    # Before session/<code>/...: "invite" would read as a code (codes have no I, so none is).
    path("session/invite/join", api.InviteJoinView.as_view(), name="session-invite-join"),
    path("session/<code:code>", api.SessionView.as_view(), name="session-detail"),
    path("session/<code:code>/join", api.JoinView.as_view(), name="session-join"),
    path("session/<code:code>/leave", api.LeaveView.as_view(), name="session-leave"),
    path("session/<code:code>/end", api.EndView.as_view(), name="session-end"),
    path("session/<code:code>/messages", api.MessagesView.as_view(), name="session-messages"),
    path("session/<code:code>/invite", api.InviteView.as_view(), name="session-invite"),
    path("session/<code:code>/participants/<oid:user_id>", api.ParticipantView.as_view(), name="session-participant"),
    path("session/<code:code>/recap", api.RecapView.as_view(), name="session-recap"),
    path("session/<code:code>/history", api.HistoryView.as_view(), name="session-history"),
    path("session/<code:code>/reactions", api.ReactionsView.as_view(), name="session-reactions"),
]
