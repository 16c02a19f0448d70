from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class MusicappConfig(AppConfig):
    """The project package is also an app, for its operator commands (dev_setup, cleanup_media)."""

    name = "musicapp"
    verbose_name = "Music app platform"


class StaffAdminConfig(admin_apps.AdminConfig):
    """django.contrib.admin with our site (musicapp.admin_site)."""

    default = False
    default_site = "musicapp.admin_site.StaffAdminSite"
