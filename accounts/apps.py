from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        from accounts.models import User
        from musicapp.adapters import media

        media.register_owner(User, "avatar")
