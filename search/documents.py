"""Building search documents from the catalog and playlists, in SQL: one statement per kind
writes (or removes) the rows of any number of ids, so a change to an artist that touches a
thousand songs is still one round trip."""

from __future__ import annotations

from django.db import connection, transaction

COLUMNS = "kind, object_id, artist_id, name, context, popularity"
# Per kind: the rows to (re)build, as SELECT kind, object_id, artist_id, name, context, popularity.
SOURCES = {
    "song": """
        SELECT 'song', s.id, s.artist_id, s.name, concat_ws(' ', ar.name, al.name), coalesce(ps.play_count, 0)
        FROM library_song s
        LEFT JOIN library_artist ar ON ar.id = s.artist_id
        LEFT JOIN library_album al ON al.id = s.album_id
        LEFT JOIN library_popular_song ps ON ps.song_id = s.id
        WHERE {where}
    """,
    "album": """
        SELECT 'album', al.id, al.artist_id, al.name, coalesce(ar.name, ''),
               coalesce((SELECT sum(ps.play_count) FROM library_song s
                         JOIN library_popular_song ps ON ps.song_id = s.id WHERE s.album_id = al.id), 0)
        FROM library_album al
        LEFT JOIN library_artist ar ON ar.id = al.artist_id
        WHERE {where}
    """,
    "artist": """
        SELECT 'artist', ar.id, ar.id, ar.name, '',
               coalesce((SELECT sum(ps.play_count) FROM library_song s
                         JOIN library_popular_song ps ON ps.song_id = s.id WHERE s.artist_id = ar.id), 0)
        FROM library_artist ar
        WHERE {where}
    """,
    # Public playlists only: a private one is never found, its owner's searches included.
    "playlist": """
        SELECT 'playlist', p.id, NULL, p.name, p."desc", p.song_count
        FROM playlists_playlist p
        WHERE p.is_public AND {where}
    """,
}
ALIAS = {"song": "s", "album": "al", "artist": "ar", "playlist": "p"}

UPSERT = """
INSERT INTO search_searchdocument
    (kind, object_id, artist_id, name, context, name_norm, text_norm, popularity, updated_at)
SELECT kind, object_id, artist_id, left(name, 300), left(context, 600), {name_norm}, {text_norm}, popularity, now()
FROM ({source}) AS src ({columns})
ON CONFLICT (kind, object_id) DO UPDATE SET
    artist_id = EXCLUDED.artist_id, name = EXCLUDED.name, context = EXCLUDED.context, name_norm = EXCLUDED.name_norm,
    text_norm = EXCLUDED.text_norm, popularity = EXCLUDED.popularity, updated_at = now()
WHERE (search_searchdocument.artist_id, search_searchdocument.name, search_searchdocument.context,
       search_searchdocument.popularity)
      IS DISTINCT FROM (EXCLUDED.artist_id, EXCLUDED.name, EXCLUDED.context, EXCLUDED.popularity)
{returning}
"""


# name_norm: lower case, unaccented, composed first (unaccent knows "é", not "e" + U+0301).
# text_norm: the same over name and context, every run of punctuation a space, so that the
# words PostgreSQL's parser finds are the words a query is split into ("ac/dc" is "ac dc").
NAME_NORM = "lower(public.unaccent(normalize(name, NFC)))"
TEXT_NORM = (
    "btrim(regexp_replace(lower(public.unaccent(normalize(concat_ws(' ', name, context), NFC))), '[\\W_]+', ' ', 'g'))"
)

# The vocabulary (what typos are corrected to) comes from the catalog only: staff write it,
# so no user can fill it with words of their own, and no private playlist's words are in it.
VOCABULARY = """
SELECT w.word, count(*) FROM search_searchdocument d, unnest(tsvector_to_array(d.tsv)) AS w(word)
WHERE d.kind <> 'playlist' AND {where} GROUP BY w.word
"""
NEW_WORDS = """
INSERT INTO search_searchword (word, docs)
SELECT word, count FROM ({vocabulary}) AS v (word, count) ORDER BY word
ON CONFLICT DO NOTHING
"""


def refresh(kind: str, ids: list[str]) -> list[str]:
    """Rebuild the documents of these ids; those that no longer exist (or are private) go.
    Returns the ids whose document changed (written, or gone): an edit search does not show,
    such as a song added to a private playlist, changes nothing."""
    where = f"{ALIAS[kind]}.id = ANY(%(ids)s::bpchar[])"
    with connection.cursor() as cursor:
        cursor.execute(_upsert(SOURCES[kind].format(where=where), "RETURNING object_id"), {"ids": ids})
        changed = [row[0] for row in cursor.fetchall()]
        if changed and kind != "playlist":  # new words are known at once (rebuild_words counts them)
            vocabulary = VOCABULARY.format(where="d.kind = %(kind)s AND d.object_id = ANY(%(ids)s::bpchar[])")
            cursor.execute(NEW_WORDS.format(vocabulary=vocabulary), {"kind": kind, "ids": changed})
        cursor.execute(
            f"""DELETE FROM search_searchdocument d WHERE d.kind = %(kind)s AND d.object_id = ANY(%(ids)s::bpchar[])
                AND NOT EXISTS ({SOURCES[kind].format(where=f"{ALIAS[kind]}.id = d.object_id")})
                RETURNING d.object_id""",  # noqa: S608
            {"kind": kind, "ids": ids},
        )
        return changed + [row[0] for row in cursor.fetchall()]


def rebuild_all(kind: str) -> int:
    """Every document of a kind, from scratch (in the caller's transaction: readers see the old
    ones until it commits). Returns how many there are."""
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM search_searchdocument WHERE kind = %s", [kind])
        cursor.execute(_upsert(SOURCES[kind].format(where="true"), ""))
        return cursor.rowcount


def rebuild_words() -> int:
    """The vocabulary anew, with how many documents hold each word: words no document holds any
    more go. One transaction; readers see the old list until it commits. Returns its size."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"CREATE TEMP TABLE fresh_words AS {VOCABULARY.format(where='true')}")
        cursor.execute(
            "DELETE FROM search_searchword v WHERE NOT EXISTS (SELECT FROM fresh_words f WHERE f.word = v.word)"
        )
        cursor.execute(
            """INSERT INTO search_searchword (word, docs) SELECT word, count FROM fresh_words ORDER BY word
               ON CONFLICT (word) DO UPDATE SET docs = EXCLUDED.docs WHERE search_searchword.docs <> EXCLUDED.docs"""
        )
        cursor.execute("SELECT count(*) FROM fresh_words")
        size = cursor.fetchone()[0]
        cursor.execute("DROP TABLE fresh_words")
        return size


def _upsert(source: str, returning: str) -> str:
    return UPSERT.format(columns=COLUMNS, source=source, name_norm=NAME_NORM, text_norm=TEXT_NORM, returning=returning)


def refresh_popularity() -> list[tuple[str, str]]:
    """After the popular songs are recomputed: the popularity of every document whose plays
    changed, one statement per kind. Returns the (kind, id) of those documents."""
    changed: list[tuple[str, str]] = []
    with connection.cursor() as cursor:
        for kind in ("song", "album", "artist"):
            cursor.execute(
                f"""UPDATE search_searchdocument d SET popularity = src.popularity, updated_at = now()
                    FROM ({SOURCES[kind].format(where="true")}) AS src ({COLUMNS})
                    WHERE d.kind = src.kind AND d.object_id = src.object_id AND d.popularity <> src.popularity
                    RETURNING d.kind, d.object_id"""  # noqa: S608
            )
            changed += cursor.fetchall()
    return changed
