from django.core.management.base import BaseCommand

from accounts.services import cleanup


class Command(BaseCommand):
    help = "Delete expired email codes and finished logins (the nightly job does the same)."

    def handle(self, *args, **options):
        codes, logins = cleanup.expired_delete()
        self.stdout.write(self.style.SUCCESS(f"Deleted {codes} expired email code(s) and {logins} finished login(s)."))
