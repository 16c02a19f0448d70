from django.urls import path, register_converter

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
    path("session/<code:code>", api.SessionView.as_view(), name="session-detail"),
    path("session/<code:code>/join", api.JoinView.as_view(), name="session-join"),
    path("session/<code:code>/leave", api.LeaveView.as_view(), name="session-leave"),
    path("session/<code:code>/end", api.EndView.as_view(), name="session-end"),
    path("session/<code:code>/messages", api.MessagesView.as_view(), name="session-messages"),
]
