from django.apps import AppConfig


class ListeningSessionsConfig(AppConfig):
    name = "listening_sessions"
    verbose_name = "Listening Sessions"

    def ready(self) -> None:
        from library import contexts
        from listening_sessions.contexts import check_session_context

        contexts.register("session", check_session_context)
