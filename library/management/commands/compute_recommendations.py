import time
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from library.services import listening


class Command(BaseCommand):
    help = "Compute every active user's recommendations, in batches (safe to rerun at any time)."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=200)
        parser.add_argument("--user", action="append", default=[], help="only this user id (repeatable)")
        parser.add_argument(
            "--changed",
            action="store_true",
            help="only users with new plays or likes since their last recommendations (what the nightly job does)",
        )

    def handle(self, *args, batch_size, user, changed, **options):
        start, written, last = time.perf_counter(), 0, ""
        if changed:
            since = timezone.now() - timedelta(days=settings.RECOMMENDATIONS_LOOKBACK_DAYS)
            users_done, written = listening.recommendations_refresh_changed(since=since, batch_size=batch_size)
            self.stdout.write(
                self.style.SUCCESS(
                    f"{written} recommendations written for {users_done} user(s) with new plays or likes "
                    f"in {time.perf_counter() - start:.1f} s."
                )
            )
            return
        users = User.objects.filter(is_active=True).order_by("pk")
        if user:
            users = users.filter(pk__in=user)
        with tqdm(total=users.count(), desc="users", unit="user", disable=None) as progress:
            while True:  # keyset over ids, so users added meanwhile do not shift the batches
                batch = list(users.filter(pk__gt=last).values_list("pk", flat=True)[:batch_size])
                if not batch:
                    break
                written += listening.recommendations_compute(user_ids=batch)
                last = batch[-1]
                progress.update(len(batch))
        self.stdout.write(
            self.style.SUCCESS(f"{written} recommendations written in {time.perf_counter() - start:.1f} s.")
        )
