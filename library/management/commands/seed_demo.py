"""Load the demo catalog (idempotent), and optionally bulk data for benchmarks.

manage.py seed_demo                      the demo artists, albums, songs (real audio), lyrics, covers
manage.py seed_demo --if-empty           only when the catalog has no songs (make run)
manage.py seed_demo --songs 100000 --users 10000 --plays 1000000 --playlists 20000
                                         bulk rows for benchmarks
manage.py seed_demo ... --totals         the same counts as totals to reach (make bench: reruns add
                                         nothing)
"""

import io
import random
from datetime import timedelta

from django.contrib.auth.hashers import make_password
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from django.utils import timezone
from tqdm import tqdm

from accounts.models import User
from library import demo, demo_names, lrc
from library.audio import check_audio
from library.cache import catalog_changed
from library.genres import ensure_genres
from library.models import Album, Artist, Genre, Lyrics, Play, Song
from musicapp.adapters import media
from musicapp.platform.ids import new_object_id

CURATOR_EMAIL = "radio@demo.invalid"  # owns the demo's public playlists; cannot sign in
TUNES = 16  # distinct generated tunes, shared by the demo songs (the store keeps each once)


def _audio(seed: str):
    return check_audio(SimpleUploadedFile("song.wav", demo.melody_wav(seed)))


def _stored_tune(n: int) -> tuple[str, float]:
    audio = _audio(f"demo-tune-{n}")
    return media.store_audio(audio.data, folder="audio", ext=audio.ext), audio.duration


class Command(BaseCommand):
    help = "Load the demo catalog (idempotent); --songs/--users add bulk rows for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true", help="do nothing if the catalog has songs")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="size of the demo catalog (1 = about 2,000 songs; tests use less)"
        )
        parser.add_argument("--songs", type=int, default=0, help="also bulk-create this many songs")
        parser.add_argument("--users", type=int, default=0, help="also bulk-create this many users")
        parser.add_argument(
            "--plays",
            type=int,
            default=0,
            help="also bulk-create this many plays of the last 60 days, by existing users",
        )
        parser.add_argument(
            "--playlists",
            type=int,
            default=0,
            help="also bulk-create this many playlists of 10 to 30 songs, by existing users (1 in 4 public)",
        )
        parser.add_argument(
            "--totals",
            action="store_true",
            help="read --songs/--users/--plays/--playlists as totals: create only what is missing",
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument("--seed", type=int, default=7, help="random seed for the bulk rows")

    def handle(self, *args, if_empty, scale, songs, users, plays, playlists, totals, batch_size, seed, **options):
        if if_empty and Song.objects.exists():
            self.stdout.write("The catalog has songs already; nothing to do.")
            return
        ensure_genres(Genre)
        created = self.demo_catalog(scale)
        self.stdout.write(self.style.SUCCESS(f"Demo catalog ready ({created} new songs)."))
        rng = random.Random(seed)
        if totals:
            from playlists.models import Playlist

            songs = max(0, songs - Song.objects.count())
            users = max(0, users - User.objects.count())
            plays = max(0, plays - Play.objects.count())
            playlists = max(0, playlists - Playlist.objects.count())
        if songs:
            self.bulk_songs(songs, batch_size, rng)
        if users:
            self.bulk_users(users, batch_size, rng)
        if plays:
            self.bulk_plays(plays, seed)
        if playlists:
            self.bulk_playlists(playlists, seed)
        # The search app's documents for everything new (plays and users are not searched).
        if (created or songs or playlists) and "search_reindex" in get_commands():
            call_command("search_reindex", stdout=io.StringIO(), stderr=io.StringIO())

    def demo_catalog(self, scale: float) -> int:
        """The demo catalog (library.demo_names): about 150 artists, 300 albums and 2,000 songs at
        scale 1, every song playable (a few generated tunes, shared) and every album and artist
        with a cover of its own. Rows whose ids exist are left alone (ids are derived from names)."""
        artists = demo_names.catalog(
            artists=max(4, round(150 * scale)),
            albums=max(6, round(300 * scale)),
            songs=max(12, round(2000 * scale)),
        )
        genres = {g.slug: g for g in Genre.objects.all()}
        tunes = [_stored_tune(n) for n in range(TUNES)]
        now = timezone.now()
        rows: dict[type, list] = {Artist: [], Album: [], Song: [], Lyrics: []}
        artist_ids = [demo.demo_id(a.name) for a in artists]
        album_ids = [demo.demo_id(a.name, b.name) for a in artists for b in a.albums]
        existing = set(Artist.objects.filter(pk__in=artist_ids).values_list("pk", flat=True))
        existing |= set(Album.objects.filter(pk__in=album_ids).values_list("pk", flat=True))
        for artist in artists:
            artist_id = demo.demo_id(artist.name)
            if artist_id not in existing:
                image = media.store_generated_image(demo.cover_webp(artist.name), folder="artists")
                rows[Artist].append(Artist(id=artist_id, name=artist.name, bio=artist.bio, image=image))
            for album in artist.albums:
                album_id = demo.demo_id(artist.name, album.name)
                cover = ""
                if album_id not in existing:
                    cover = media.store_generated_image(demo.cover_webp(album_id), folder="covers")
                rows[Album].append(
                    Album(
                        id=album_id,
                        name=album.name,
                        artist_id=artist_id,
                        image=cover,
                        bg_colour=demo.bg_colour(album.name),
                        desc=f"{artist.name}'s {['latest', 'earlier'][min(album.year_back, 1)]} record.",
                        release_date=now.date() - timedelta(days=365 * (album.year_back + 1)),
                    )
                )
                for song in album.songs:
                    song_id = demo.demo_id(artist.name, album.name, song.title)
                    title = (
                        song.title
                        if not song.featuring or song.featuring == artist.name
                        else f"{song.title} (feat. {song.featuring})"
                    )
                    key, duration = tunes[int(song_id, 16) % TUNES]
                    rows[Song].append(
                        Song(
                            id=song_id,
                            name=title,
                            album_id=album_id,
                            artist_id=artist_id,
                            genre=genres.get(artist.genre),
                            track_number=song.track,
                            file=key,
                            duration=duration,
                            created_at=now - timedelta(minutes=int(song_id[:6], 16) % 100_000),
                        )
                    )
                    if song.track == 1:
                        plain, synced = demo.lyrics_for(song.title)
                        parsed = lrc.as_json(lrc.parse(synced))
                        rows[Lyrics].append(Lyrics(song_id=song_id, plain=plain, synced_lrc=synced, synced=parsed))
        with transaction.atomic():
            before = Song.objects.count()
            for model in (Artist, Album, Song, Lyrics):
                model.objects.bulk_create(rows[model], batch_size=1000, ignore_conflicts=True)
            catalog_changed()
            created = Song.objects.count() - before
            self.demo_playlists()
        return created

    def demo_playlists(self) -> None:
        """The demo curator's public playlists (library.demo_names.PLAYLISTS): songs whose title,
        artist or album holds one of a playlist's words, 12 to 30 of them."""
        from playlists.models import Playlist, PlaylistSong

        curator, _ = User.objects.get_or_create(
            email=CURATOR_EMAIL,
            defaults={"name": "Demo Radio", "is_email_verified": True, "password": make_password(None)},
        )
        if Playlist.objects.filter(owner=curator).exists():
            return
        songs = list(Song.objects.order_by("id").values_list("id", "name", "artist__name", "album__name"))
        rng = random.Random(2026)
        entries = []
        for name, desc, words in demo_names.PLAYLISTS:
            matching = [s[0] for s in songs if not words or any(w.lower() in " ".join(s[1:]).lower() for w in words)]
            picked = rng.sample(matching, min(len(matching), rng.randrange(12, 31)))
            if not picked:  # a small catalog (--scale) may have no song for it
                continue
            playlist = Playlist.objects.create(
                owner=curator, name=name, desc=desc, is_public=True, song_count=len(picked)
            )
            entries += [PlaylistSong(playlist=playlist, song_id=s, position=i) for i, s in enumerate(picked)]
        PlaylistSong.objects.bulk_create(entries, batch_size=1000)

    def bulk_songs(self, count: int, batch_size: int, rng: random.Random) -> None:
        """Rows only, named as the demo's are (so that search has realistic work): a few real
        audio files are shared by every bulk song."""
        audio = [_audio(f"bulk-{i}") for i in range(3)]
        files = [(media.store_audio(a.data, folder="audio", ext=a.ext), a.duration) for a in audio]
        genres = list(Genre.objects.all())
        now = timezone.now()
        with transaction.atomic():
            artists = [
                Artist(id=new_object_id(), name=demo_names.artist_name(rng)) for _ in range(max(1, count // 200))
            ]
            Artist.objects.bulk_create(artists, batch_size=batch_size)
            albums = [
                Album(id=new_object_id(), name=demo_names.album_name(rng), artist=rng.choice(artists))
                for _ in range(max(1, count // 12))
            ]
            Album.objects.bulk_create(albums, batch_size=batch_size)
        track_of: dict[str, int] = {}
        with tqdm(total=count, desc="songs", unit="song", disable=None) as progress:
            for start in range(0, count, batch_size):
                batch = []
                for _ in range(start, min(count, start + batch_size)):
                    album = rng.choice(albums)
                    track_of[album.pk] = track_of.get(album.pk, 0) + 1
                    key, duration = rng.choice(files)
                    batch.append(
                        Song(
                            id=new_object_id(),
                            name=demo_names.song_title(rng),
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
        _vacuum_analyze("library_play")

    def bulk_playlists(self, count: int, seed: int) -> None:
        """Playlists generated inside PostgreSQL: random owners, 10 to 30 distinct songs each
        (dense positions, song_count kept), 1 in 4 public, 1 in 10 collaborative."""
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(PLAYS_SETUP_SQL)
            cursor.execute("SELECT setseed(%s)", [(seed % 1000) / 1000])
            chunk = 5_000
            with tqdm(total=count, desc="playlists", unit="playlist", disable=None) as progress:
                for start in range(0, count, chunk):
                    size = min(chunk, count - start)
                    cursor.execute(PLAYLISTS_SQL, {"n": size})
                    cursor.execute(PLAYLIST_SONGS_SQL)
                    progress.update(size)
        _vacuum_analyze("playlists_playlist", "playlists_playlistsong")


def _vacuum_analyze(*tables: str) -> None:
    """Fresh statistics and visibility map, so the planner and index-only scans see the new rows
    (statistics only inside a transaction, where VACUUM cannot run: the tests')."""
    command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"{command} {table}")


# Numbered copies of songs and listeners, so that a random number joins to a row by hash.
PLAYS_SETUP_SQL = """
DROP TABLE IF EXISTS seed_songs, seed_users;
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
# One chunk of playlists (kept in seed_new_playlists for their songs), then their songs: picks
# drawn with the plays' skew, made distinct per playlist, numbered densely from 0.
PLAYLISTS_SQL = """
DROP TABLE IF EXISTS seed_new_playlists;
CREATE TEMP TABLE seed_new_playlists ON COMMIT DROP AS
WITH sizes AS (SELECT (SELECT count(*) FROM seed_users) AS users),
     picks AS (SELECT 1 + floor(random() * sizes.users)::bigint AS u, random() AS r, random() AS k,
                      10 + floor(random() * 21)::int AS songs
               FROM generate_series(1, %(n)s), sizes)
SELECT substr(md5(gen_random_uuid()::text), 1, 24) AS id, su.id AS owner_id,
       now() - p.r * interval '365 days' AS created_at, p.k < 0.25 AS is_public, p.k > 0.9 AS collaborative,
       p.songs
FROM picks p JOIN seed_users su ON su.n = p.u;
INSERT INTO playlists_playlist (id, created_at, updated_at, name, "desc", banner, is_public, collaborative,
                                song_count, owner_id)
SELECT id, created_at, created_at, 'Mix ' || substr(id, 1, 6), '', '', is_public, collaborative, 0, owner_id
FROM seed_new_playlists;
"""
PLAYLIST_SONGS_SQL = """
WITH sizes AS (SELECT (SELECT count(*) FROM seed_songs) AS songs),
     drawn AS MATERIALIZED (SELECT np.id AS playlist_id, np.owner_id, g,
                                   1 + floor(power(random(), 3) * sizes.songs)::bigint AS s
                            FROM seed_new_playlists np CROSS JOIN sizes
                            CROSS JOIN LATERAL generate_series(1, np.songs) AS g),
     picks AS (SELECT DISTINCT ON (d.playlist_id, ss.id) d.playlist_id, d.owner_id, ss.id AS song_id, d.g
               FROM drawn d JOIN seed_songs ss ON ss.n = d.s
               ORDER BY d.playlist_id, ss.id, d.g),
     entries AS (INSERT INTO playlists_playlistsong (id, created_at, updated_at, position, added_by_id,
                                                     playlist_id, song_id)
                 SELECT substr(md5(gen_random_uuid()::text), 1, 24), now(), now(),
                        row_number() OVER (PARTITION BY playlist_id ORDER BY g) - 1, owner_id, playlist_id, song_id
                 FROM picks
                 RETURNING playlist_id)
UPDATE playlists_playlist p SET song_count = counted.n
FROM (SELECT playlist_id, count(*) AS n FROM entries GROUP BY playlist_id) counted
WHERE p.id = counted.playlist_id;
"""
