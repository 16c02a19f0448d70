"""Recommendations, computed in SQL for a batch of users at a time. See docs/RECOMMENDATIONS.md.

For each user, candidates are scored from two sources:
  - co-listening: the (at most NEIGHBOURS) listeners whose recent public plays overlap most
    with the user's last TASTE_SONGS songs played or liked; each of the last NEIGHBOUR_SONGS
    songs they played scores the overlap of
    whoever played it (a listener who shares 12 songs with you counts 12 times as much as
    one who shares 1). Overlap is counted only through songs with at most MAX_SONG_LISTENERS
    listeners in the last 30 days: that everyone played the current hit says nothing about
    taste, and joining through it would cost a row per listener of the hit;
  - liked albums' artists: every song by the artist of an album the user likes scores
    ARTIST_SCORE.
Songs the user played in the last HISTORY_DAYS, or likes, are never recommended: they are
what the user already knows. The best
LIMIT by score are kept; a user with fewer (a new one) is topped up with the popular songs
(library_popular_song), then with the newest songs while nothing is popular yet.
Each batch replaces its users' rows in one transaction, so a rerun is safe at any time.
"""

from typing import Any

from django.db import connection, transaction

LIMIT = 50
NEIGHBOURS = 30
# A listener's taste is their last TASTE_SONGS songs (played in public or liked), and a
# neighbour brings their last NEIGHBOUR_SONGS: what someone listens to lately says more than
# what they played in the spring, and the work per user stays bounded however long their
# history grows (docs/PERFORMANCE.md, cost growth).
TASTE_SONGS = 50
NEIGHBOUR_SONGS = 100
MAX_SONG_LISTENERS = 200
HISTORY_DAYS = 90
ARTIST_SCORE = 2.0

SQL = """
WITH target AS (
    SELECT unnest(%(users)s::bpchar[]) AS user_id
),
excluded AS (  -- played lately (private sessions too), or liked: never recommended
    SELECT p.user_id, p.song_id FROM library_play p JOIN target t ON t.user_id = p.user_id
    WHERE p.played_at >= now() - make_interval(days => %(history_days)s)
    UNION
    SELECT l.user_id, l.song_id FROM library_likedsong l JOIN target t ON t.user_id = l.user_id
),
taste AS (  -- what each user listens to lately: the last songs they played in public, or liked
    SELECT user_id, song_id FROM (
        SELECT user_id, song_id, row_number() OVER (PARTITION BY user_id ORDER BY max(at) DESC, song_id) AS n
        FROM (
            SELECT p.user_id, p.song_id, p.played_at AS at FROM library_play p JOIN target t ON t.user_id = p.user_id
            WHERE NOT p.is_private AND p.played_at >= now() - make_interval(days => %(history_days)s)
            UNION ALL
            SELECT l.user_id, l.song_id, l.created_at FROM library_likedsong l JOIN target t ON t.user_id = l.user_id
        ) events
        GROUP BY user_id, song_id
    ) ranked WHERE n <= %(taste_songs)s
),
telling AS (  -- the songs of a user's taste that say something about it
    SELECT t.user_id, t.song_id FROM taste t
    LEFT JOIN library_popular_song ps ON ps.song_id = t.song_id
    WHERE coalesce(ps.unique_listeners, 0) <= %(max_song_listeners)s
),
overlap AS (
    SELECT m.user_id, p.user_id AS other, count(DISTINCT p.song_id) AS shared
    FROM telling m
    JOIN library_play p ON p.song_id = m.song_id AND p.user_id <> m.user_id AND NOT p.is_private
                         AND p.played_at >= now() - make_interval(days => %(history_days)s)
    GROUP BY m.user_id, p.user_id
),
neighbours AS (
    SELECT user_id, other, shared FROM (
        SELECT o.*, row_number() OVER (PARTITION BY o.user_id ORDER BY o.shared DESC, o.other) AS n FROM overlap o
    ) ranked WHERE n <= %(neighbours)s
),
neighbour_songs AS (  -- one pass over the neighbours' plays: the last songs each played in public
    SELECT other, song_id FROM (
        SELECT p.user_id AS other, p.song_id,
               row_number() OVER (PARTITION BY p.user_id ORDER BY max(p.played_at) DESC, p.song_id) AS n
        FROM library_play p
        WHERE p.user_id IN (SELECT other FROM neighbours) AND NOT p.is_private
          AND p.played_at >= now() - make_interval(days => %(history_days)s)
        GROUP BY p.user_id, p.song_id
    ) ranked WHERE n <= %(neighbour_songs)s
),
co_listened AS (
    SELECT n.user_id, x.song_id, sum(n.shared)::double precision AS score
    FROM neighbours n
    JOIN neighbour_songs x ON x.other = n.other
    GROUP BY n.user_id, x.song_id
),
by_liked_artist AS (
    SELECT DISTINCT la.user_id, s.id AS song_id
    FROM library_likedalbum la
    JOIN target t ON t.user_id = la.user_id
    JOIN library_album a ON a.id = la.album_id
    JOIN library_song s ON s.artist_id = a.artist_id
),
scored AS (  -- one row per (user, song): both sources add up
    SELECT coalesce(c.user_id, l.user_id) AS user_id, coalesce(c.song_id, l.song_id) AS song_id,
           coalesce(c.score, 0) + CASE WHEN l.song_id IS NULL THEN 0 ELSE %(artist_score)s END AS score,
           CASE WHEN c.song_id IS NULL THEN 'liked_artist' ELSE 'co_listening' END AS reason
    FROM co_listened c
    FULL JOIN by_liked_artist l ON l.user_id = c.user_id AND l.song_id = c.song_id
),
best AS (
    SELECT * FROM (
        SELECT s.*, row_number() OVER (PARTITION BY s.user_id ORDER BY s.score DESC, s.song_id) AS rank
        FROM scored s
        WHERE NOT EXISTS (SELECT 1 FROM excluded e WHERE e.user_id = s.user_id AND e.song_id = s.song_id)
    ) ranked WHERE rank <= %(limit)s
),
fallback AS (  -- popular songs first, then the newest, for users with too few candidates
    SELECT song_id, row_number() OVER (ORDER BY source, weight DESC, song_id) AS position
    FROM (
        SELECT song_id, 0 AS source, weight FROM (
            SELECT song_id, play_count::double precision AS weight FROM library_popular_song
            ORDER BY play_count DESC, unique_listeners DESC, song_id LIMIT %(fill_pool)s
        ) popular
        UNION ALL
        SELECT id, 1, extract(epoch FROM created_at) FROM (
            SELECT id, created_at FROM library_song ORDER BY created_at DESC LIMIT %(fill_pool)s
        ) newest
    ) pool
),
chosen_count AS (
    SELECT t.user_id, count(b.song_id) AS n FROM target t LEFT JOIN best b ON b.user_id = t.user_id
    GROUP BY t.user_id
),
fill AS (
    SELECT t.user_id, f.song_id, 0::double precision AS score, 'popular' AS reason,
           min(t.n) + row_number() OVER (PARTITION BY t.user_id ORDER BY min(f.position)) AS rank
    FROM chosen_count t
    CROSS JOIN fallback f
    WHERE NOT EXISTS (SELECT 1 FROM excluded e WHERE e.user_id = t.user_id AND e.song_id = f.song_id)
      AND NOT EXISTS (SELECT 1 FROM best b WHERE b.user_id = t.user_id AND b.song_id = f.song_id)
    GROUP BY t.user_id, f.song_id
)
INSERT INTO library_recommendation (id, created_at, updated_at, user_id, song_id, rank, score, reason, generated_at)
SELECT substr(md5(gen_random_uuid()::text), 1, 24), now(), now(), user_id, song_id, rank, score, reason, now()
FROM (
    SELECT user_id, song_id, rank, score, reason FROM best
    UNION ALL
    SELECT user_id, song_id, rank, score, reason FROM fill WHERE rank <= %(limit)s
) chosen
"""


COMPUTE_LOCK = 0x5EC0  # pg_advisory_xact_lock class of a user's recommendations being computed


def compute_for(user_ids: list[str]) -> int:
    """Replace the recommendations of these users; returns how many rows were written."""
    if not user_ids:
        return 0
    params: dict[str, Any] = {
        "users": list(user_ids),
        "history_days": HISTORY_DAYS,
        "max_song_listeners": MAX_SONG_LISTENERS,
        "neighbours": NEIGHBOURS,
        "taste_songs": TASTE_SONGS,
        "neighbour_songs": NEIGHBOUR_SONGS,
        "artist_score": ARTIST_SCORE,
        "limit": LIMIT,
        "fill_pool": LIMIT * 4,
    }
    with transaction.atomic(), connection.cursor() as cursor:
        # A batch job, not a request: a large batch may take longer than the request timeout.
        cursor.execute("SET LOCAL statement_timeout = '10min'")
        # One computation per user at a time (two requests, or a request and the nightly job):
        # the second waits, then replaces the first's rows instead of colliding with them.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(u)) FROM (SELECT u FROM unnest(%s::text[]) AS u ORDER BY u) s",
            [COMPUTE_LOCK, sorted(user_ids)],
        )
        cursor.execute("DELETE FROM library_recommendation WHERE user_id = ANY(%s::bpchar[])", [list(user_ids)])
        cursor.execute(SQL, params)
        return cursor.rowcount


# Users whose taste moved since their recommendations were made: a public play, or a like,
# newer than their newest recommendation. Only activity since `since` is looked at (the plays
# through the partial index on played_at), so the nightly run costs what a day brought.
CHANGED_SQL = """
WITH activity AS (
    SELECT user_id, max(played_at) AS at FROM library_play
    WHERE played_at >= %(since)s AND NOT is_private GROUP BY user_id
    UNION ALL
    SELECT user_id, max(created_at) FROM library_likedsong WHERE created_at >= %(since)s GROUP BY user_id
    UNION ALL
    SELECT user_id, max(created_at) FROM library_likedalbum WHERE created_at >= %(since)s GROUP BY user_id
)
SELECT a.user_id FROM activity a JOIN accounts_user u ON u.id = a.user_id AND u.is_active
GROUP BY a.user_id
HAVING max(a.at) > coalesce(
    (SELECT max(r.generated_at) FROM library_recommendation r WHERE r.user_id = a.user_id), '-infinity'
)
ORDER BY a.user_id
"""


def users_with_new_activity(since) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(CHANGED_SQL, {"since": since})
        return [row[0] for row in cursor.fetchall()]
