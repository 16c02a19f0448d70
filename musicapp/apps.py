from django.apps import AppConfig


class MusicappConfig(AppConfig):
    """The project package is also an app, for its operator commands (dev_setup)."""

    name = "musicapp"
    verbose_name = "Music app platform"
