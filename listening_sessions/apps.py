from django.apps import AppConfig


class ListeningSessionsConfig(AppConfig):
    name = "listening_sessions"
    verbose_name = "Listening Sessions"
