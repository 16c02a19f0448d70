from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from accounts.models import User
        from musicapp.adapters import media
        from musicapp.platform import scoped_cache

        media.register_owner(User, "avatar")

        def user_changed(sender, instance: User, **kwargs) -> None:
            # The row cached for token checks (accounts.authentication.cached_user) goes with
            # any save: the admin's, a service's, a password reset's.
            scoped_cache.user_changed_on_commit(instance.pk, "auth")

        post_save.connect(user_changed, sender=User, weak=False, dispatch_uid="accounts.user_changed")
        post_delete.connect(user_changed, sender=User, weak=False, dispatch_uid="accounts.user_deleted")
