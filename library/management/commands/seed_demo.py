"""Load the demo catalog (idempotent), and optionally bulk data for benchmarks.

manage.py seed_demo                      the demo artists, albums, songs (real audio), lyrics
manage.py seed_demo --if-empty           only when the catalog has no songs (make run)
manage.py seed_demo --songs 100000 --users 10000 --plays 1000000     bulk rows for benchmarks
"""

import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from library import demo, services
from library.audio import check_audio
from library.genres import ensure_genres
from library.models import Album, Artist, Genre, Lyrics, Song
from musicapp.adapters import media
from musicapp.platform.ids import new_object_id


def _image(seed: str) -> media.CheckedImage:
    data = demo.cover_png(seed)
    return media.check_image(SimpleUploadedFile("cover.png", data), field="image", max_bytes=len(data) + 1)


def _audio(seed: str):
    return check_audio(SimpleUploadedFile("song.wav", demo.melody_wav(seed)))


class Command(BaseCommand):
    help = "Load the demo catalog (idempotent); --songs/--users add bulk rows for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the catalog has songs")
        parser.add_argument("--songs", type=int, default=0, help="also bulk-create this many songs")
        parser.add_argument("--users", type=int, default=0, help="also bulk-create this many users")
        parser.add_argument(
            "--plays",
            type=int,
            default=0,
            help="also bulk-create this many plays of the last 60 days, by existing users",
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=7, help="random seed for the bulk rows")

    def handle(self, *args, if_empty, songs, users, plays, batch_size, seed, **options):
        if if_empty and Song.objects.exists():
            self.stdout.write("The catalog has songs already; nothing to do.")
            return
        ensure_genres(Genre)
        created = self.demo_catalog()
        self.stdout.write(self.style.SUCCESS(f"Demo catalog ready ({created} new songs)."))
        rng = random.Random(seed)
        if songs:
            self.bulk_songs(songs, batch_size, rng)
        if users:
            self.bulk_users(users, batch_size, rng)
        if plays:
            self.bulk_plays(plays, seed)

    def demo_catalog(self) -> int:
        genres = {g.slug: g for g in Genre.objects.all()}
        created = 0
        for artist_name, bio, genre_slug, albums in demo.CATALOG:
            artist = Artist.objects.filter(pk=demo.demo_id(artist_name)).first()
            if artist is None:
                artist = services.artist_save(
                    artist=Artist(id=demo.demo_id(artist_name), name=artist_name, bio=bio), image=_image(artist_name)
                )
            for year_back, (album_name, titles) in enumerate(albums):
                album_id = demo.demo_id(artist_name, album_name)
                album = Album.objects.filter(pk=album_id).first()
                if album is None:
                    album = services.album_save(
                        album=Album(
                            id=album_id,
                            name=album_name,
                            artist=artist,
                            bg_colour=demo.bg_colour(album_name),
                            desc=f"{artist_name}'s {['latest', 'earlier'][min(year_back, 1)]} record.",
                            release_date=timezone.now().date() - timedelta(days=365 * (year_back + 1)),
                        ),
                        cover=_image(album_name),
                    )
                for track, title in enumerate(titles, start=1):
                    song_id = demo.demo_id(artist_name, album_name, title)
                    if Song.objects.filter(pk=song_id).exists():
                        continue
                    song = services.song_save(
                        song=Song(
                            id=song_id,
                            name=title,
                            album=album,
                            artist=artist,
                            genre=genres.get(genre_slug),
                            track_number=track,
                        ),
                        audio=_audio(song_id),
                    )
                    created += 1
                    if track == 1:
                        plain, synced = demo.lyrics_for(title)
                        services.lyrics_save(lyrics=Lyrics(song=song, plain=plain, synced_lrc=synced))
        return created

    def bulk_songs(self, count: int, batch_size: int, rng: random.Random) -> None:
        """Rows only: a few real audio files are shared by every bulk song."""
        audio = [_audio(f"bulk-{i}") for i in range(3)]
        files = [(media.store_audio(a.data, folder="audio", ext=a.ext), a.duration) for a in audio]
        genres = list(Genre.objects.all())
        now = timezone.now()
        with transaction.atomic():
            artists = [Artist(id=new_object_id(), name=f"Bench Artist {i}") for i in range(max(1, count // 200))]
            Artist.objects.bulk_create(artists, batch_size=batch_size)
            albums = [
                Album(id=new_object_id(), name=f"Bench Album {i}", artist=rng.choice(artists))
                for i in range(max(1, count // 12))
            ]
            Album.objects.bulk_create(albums, batch_size=batch_size)
        track_of: dict[str, int] = {}
        with tqdm(total=count, desc="songs", unit="song", disable=None) as progress:
            for start in range(0, count, batch_size):
                batch = []
                for i in range(start, min(count, start + batch_size)):
                    album = rng.choice(albums)
                    track_of[album.pk] = track_of.get(album.pk, 0) + 1
                    key, duration = rng.choice(files)
                    batch.append(
                        Song(
                            id=new_object_id(),
                            name=f"Bench Song {i}",
                            file=key,
                            duration=duration,
                            album=album,
                            artist=album.artist,
                            genre=rng.choice(genres),
                            track_number=track_of[album.pk],
                            created_at=now - timedelta(seconds=rng.randrange(365 * 86400)),
                        )
                    )
                Song.objects.bulk_create(batch)
                progress.update(len(batch))
        from library.cache import catalog_changed

        with transaction.atomic():
            catalog_changed()

    def bulk_users(self, count: int, batch_size: int, rng: random.Random) -> None:
        password = make_password("bench-password-not-secret")
        now = timezone.now()
        with tqdm(total=count, desc="users", unit="user", disable=None) as progress:
            for start in range(0, count, batch_size):
                batch = [
                    User(
                        id=new_object_id(),
                        email=f"bench{i}-{new_object_id()[-6:]}@example.com",
                        name=f"Bench Listener {i}",
                        password=password,
                        is_email_verified=True,
                        created_at=now - timedelta(seconds=rng.randrange(365 * 86400)),
                    )
                    for i in range(start, min(count, start + batch_size))
                ]
                User.objects.bulk_create(batch)
                progress.update(len(batch))

    def bulk_plays(self, count: int, seed: int) -> None:
        """Plays generated inside PostgreSQL (INSERT ... SELECT), 100,000 per statement.

        Songs are drawn with a skew (a few are played a lot, most rarely) and listeners
        uniformly, over the last 60 days; about 1 in 12 plays is skipped, 1 in 25 private.
        """
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(PLAYS_SETUP_SQL)
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            chunk = 100_000
            with tqdm(total=count, desc="plays", unit="play", disable=None) as progress:
                for start in range(0, count, chunk):
                    size = min(chunk, count - start)
                    cursor.execute(PLAYS_SQL, {"n": size})
                    progress.update(size)
        with connection.cursor() as cursor:
            # Fresh statistics and visibility map, so the planner and index-only scans see the new rows.
            cursor.execute("VACUUM (ANALYZE) library_play")


# Numbered copies of songs and listeners, so that a random number joins to a row by hash.
PLAYS_SETUP_SQL = """
CREATE TEMP TABLE seed_songs ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY created_at, id) AS n, id, duration FROM library_song;
CREATE TEMP TABLE seed_users ON COMMIT DROP AS
    SELECT row_number() OVER (ORDER BY id) AS n, id FROM accounts_user WHERE is_active;
ANALYZE seed_songs;
ANALYZE seed_users;
"""
PLAYS_SQL = """
WITH sizes AS (SELECT (SELECT count(*) FROM seed_songs) AS songs, (SELECT count(*) FROM seed_users) AS users),
     picks AS (SELECT 1 + floor(power(random(), 3) * sizes.songs)::bigint AS s,
                      1 + floor(random() * sizes.users)::bigint AS u, random() AS r, random() AS k
               FROM generate_series(1, %(n)s), sizes)
INSERT INTO library_play (id, created_at, updated_at, user_id, song_id, played_at, play_duration, skipped,
                          context_type, context_id, is_private)
SELECT substr(md5(gen_random_uuid()::text), 1, 24), now(), now(), su.id, ss.id, now() - p.r * interval '60 days',
       CASE WHEN p.k < 0.08 THEN 5 ELSE ss.duration END, p.k < 0.08, 'other', '', p.k > 0.96
FROM picks p JOIN seed_songs ss ON ss.n = p.s JOIN seed_users su ON su.n = p.u
"""
