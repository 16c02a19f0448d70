"""Local set-up for `make run`: a staff login (printed) and the demo catalog if there is none."""

import json
import secrets
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand

STAFF_EMAIL = "staff@localhost.test"


class Command(BaseCommand):
    help = "Create (or reuse) the local staff login and load the demo catalog if the database has none."

    def add_arguments(self, parser):
        parser.add_argument("--login-file", default=str(Path(settings.BASE_DIR) / ".devdata" / "staff-login.json"))

    def handle(self, *args, login_file: str, **options):
        email, password = self.ensure_staff(Path(login_file))
        if "seed_demo" in get_commands():  # the catalog app's command; it is idempotent
            call_command("seed_demo", if_empty=True, stdout=self.stdout)
        self.stdout.write(self.style.SUCCESS(f"Staff login for /admin/: {email} / {password}"))

    def ensure_staff(self, login_file: Path) -> tuple[str, str]:
        User = get_user_model()
        saved = json.loads(login_file.read_text()) if login_file.exists() else {}
        user = User.objects.filter(email=STAFF_EMAIL).first()
        if user and saved.get("password") and user.check_password(saved["password"]):
            return STAFF_EMAIL, saved["password"]
        password = secrets.token_urlsafe(12)
        if user is None:
            User.objects.create_superuser(STAFF_EMAIL, password, name="Local staff")
        else:
            user.set_password(password)
            user.is_staff = user.is_superuser = user.is_active = True
            user.save(update_fields=["password", "is_staff", "is_superuser", "is_active"])
        login_file.parent.mkdir(parents=True, exist_ok=True)
        login_file.write_text(json.dumps({"email": STAFF_EMAIL, "password": password}))
        login_file.chmod(0o600)
        return STAFF_EMAIL, password
