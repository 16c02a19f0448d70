"""How each MongoDB collection (../shared/MONGO.md) becomes rows: one Spec per collection.

A spec turns one document into the rows it stands for, given the references of its batch
already looked up (`Refs`), and says what it noticed on the way (`notes`, listed in the
report). A document that cannot be imported raises Reject with the reason. Everything here is
pure: the same document and the same references always give the same rows (so a digest of
the rows tells a changed document from an unchanged one, and `--verify` can recompute them).
"""

from __future__ import annotations

import hashlib
import pickle
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from bson import ObjectId
from django.db import models

from accounts.equalizer import BAND_FREQUENCIES_HZ, BAND_LIMIT_DB, PRESET_NAMES, default_equalizer
from accounts.models import User, UserSettings
from library import lrc
from library.models import Album, LikedAlbum, LikedSong, Lyrics, Play, Recommendation, Song
from listening_sessions.models import ChatMessage, ListeningSession, QueueItem, SessionParticipant
from musicapp.mongo_import import values
from musicapp.mongo_import.values import Invalid
from playlists.models import Playlist, PlaylistSong
from search.models import RecentSearch

# The kinds a reference can point at, and the table that holds them.
KIND_MODELS: dict[str, type[models.Model]] = {
    "users": User,
    "albums": Album,
    "songs": Song,
    "sessions": ListeningSession,
}


class Reject(Exception):
    """The document is not imported; the reason goes in the report."""


@dataclass
class Refs:
    """The references of one batch, looked up at once: which ids exist (per kind), the users
    merged into another, and the imported albums by lower-cased name."""

    existing: dict[str, set[str]]
    user_aliases: dict[str, str]
    albums_by_name: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    _seen: dict[tuple[str, Any], str | None] = field(default_factory=dict)

    def get(self, kind: str, raw: Any) -> str | None:
        if isinstance(raw, (dict, list)):
            return self._get(kind, raw)
        key = (kind, raw)
        if key not in self._seen:  # a batch names the same users and songs again and again
            self._seen[key] = self._get(kind, raw)
        return self._seen[key]

    def _get(self, kind: str, raw: Any) -> str | None:
        object_id = values.object_id(raw)
        if object_id is None:
            return None
        if kind == "users":
            object_id = self.user_aliases.get(object_id, object_id)
        return object_id if object_id in self.existing[kind] else None


@dataclass
class Rows:
    """What one document became: rows per model, and notes for the report."""

    target_id: str
    rows: list[tuple[type[models.Model], dict[str, Any]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    merged: bool = False

    def add(self, model: type[models.Model], **row: Any) -> None:
        self.rows.append((model, row))

    def digest(self) -> str:
        """A digest of the rows (pickle is deterministic for these plain values, and quick)."""
        data = pickle.dumps([(model._meta.db_table, row) for model, row in self.rows], protocol=5)
        return hashlib.md5(data, usedforsecurity=False).hexdigest()


def child_id(*parts: str) -> str:
    """A stable 24-hex id for a row that had no _id of its own in MongoDB (a playlist entry,
    a like, a queue item), so that reruns and --verify find the same row."""
    return hashlib.sha1(":".join(parts).encode(), usedforsecurity=False).hexdigest()[:24]


def limited(rows: Rows, label: str, value: str, limit: int) -> str:
    if len(value) > limit:
        rows.notes.append(f"{label} cut to {limit} characters; it was: {value!r}")
        return value[:limit]
    return value


def choice(rows: Rows, label: str, value: Any, options: Iterable[str], default: str) -> str:
    if value is None or value == "":
        return default
    text = str(value).strip().lower().replace("-", "_").replace(" ", "_")
    if text in options:
        return text
    rows.notes.append(f"{label} {str(value)[:40]!r} is not one of ours: {default!r} used")
    return default


def checked(rows: Rows, label: str, convert, value: Any, default: Any) -> Any:
    if value is None:
        return default
    try:
        return convert(value)
    except Invalid as exc:
        rows.notes.append(f"{label}: {exc}; {default!r} used")
        return default


class Spec:
    collection: ClassVar[str]
    model: ClassVar[type[models.Model]]
    # References by document field: kind, and whether the field holds a list of ids.
    refs: ClassVar[dict[str, tuple[str, bool]]] = {}
    # Child rows replaced wholesale when their document changes: model -> parent column.
    replaced: ClassVar[dict[type[models.Model], str]] = {}
    # Child rows only ever added (a like the user may also have made in the new app).
    added: ClassVar[tuple[type[models.Model], ...]] = ()
    # Columns an import does not overwrite on a row that exists (set by the app since).
    keep_on_update: ClassVar[tuple[str, ...]] = ()
    # A collection of millions of small, never edited documents (plays): no record is kept of
    # each imported one (its row is its record), and new rows go in with COPY.
    bulk: ClassVar[bool] = False
    FAST_COLUMNS: ClassVar[tuple[str, ...]] = ()  # with fast_row(): the columns of its tuples
    FAST_TYPES: ClassVar[tuple[str, ...]] = ()  # and their types, for a binary COPY

    def fast_row(self, doc: dict[str, Any], user_aliases: dict[str, str]) -> tuple | None:
        return None

    # For --verify: rows the app recomputes after an import (their records are still checked).
    recomputed: ClassVar[tuple[type[models.Model], ...]] = ()
    # For --verify: columns the app changes by itself after an import.
    not_verified: ClassVar[tuple[str, ...]] = ("updated_at",)

    def referenced(self, doc: dict[str, Any]) -> Iterator[tuple[str, Any]]:
        for name, (kind, many) in self.refs.items():
            value = doc.get(name)
            if many:
                if isinstance(value, list):
                    yield from ((kind, item) for item in value)
            elif value is not None:
                yield kind, value

    def convert(self, doc: dict[str, Any], refs: Refs) -> Rows:
        raise NotImplementedError

    # --- helpers ---------------------------------------------------------------------------

    @staticmethod
    def start(doc: dict[str, Any]) -> tuple[Rows, datetime, datetime]:
        object_id = values.object_id(doc.get("_id"))
        if object_id is None:
            raise Reject(f"_id {str(doc.get('_id'))[:40]!r} is not an ObjectId: it cannot keep its id")
        rows = Rows(object_id)
        created = checked(rows, "createdAt", values.moment, doc.get("createdAt"), None) or values.id_time(object_id)
        updated = checked(rows, "updatedAt", values.moment, doc.get("updatedAt"), None) or created
        return rows, created, updated

    @staticmethod
    def required(refs: Refs, doc: dict[str, Any], name: str, kind: str) -> str:
        value = doc.get(name)
        if value is None:
            raise Reject(f"{name} is missing")
        resolved = refs.get(kind, value)
        if resolved is None:
            if values.object_id(value) is None:
                raise Reject(f"{name} {str(value)[:40]!r} is not an id")
            raise Reject(f"{name} {values.object_id(value)} points at no {kind[:-1]} (dangling reference)")
        return resolved

    @staticmethod
    def optional(rows: Rows, refs: Refs, doc: dict[str, Any], name: str, kind: str) -> str | None:
        value = doc.get(name)
        if value is None or value == "":
            return None
        resolved = refs.get(kind, value)
        if resolved is None:
            rows.notes.append(f"{name} {str(value)[:40]!r} points at no {kind[:-1]}: left empty")
        return resolved

    @staticmethod
    def id_list(rows: Rows, refs: Refs, doc: dict[str, Any], name: str, kind: str) -> list[str]:
        """The ids of a list field in order, each once; dangling and repeated ones noted."""
        value = doc.get(name)
        if value is None:
            return []
        if not isinstance(value, list):
            rows.notes.append(f"{name} is not a list: ignored")
            return []
        seen: dict[str, None] = {}
        for index, item in enumerate(value):
            resolved = refs.get(kind, item)
            if resolved is None:
                rows.notes.append(f"{name}[{index}] {str(item)[:40]!r} points at no {kind[:-1]}: left out")
            elif resolved in seen:
                rows.notes.append(f"{name}[{index}] {resolved} appears again: kept once, at its first place")
            else:
                seen[resolved] = None
        return list(seen)


class Users(Spec):
    """Emails differing only by case are one account (docs/IMPORT.md): the oldest document
    (createdAt, then _id) keeps it; the others are merged into it and their data follows."""

    collection, model = "users", User
    keep_on_update = ("is_staff", "is_superuser", "is_active", "last_login")
    not_verified = ("updated_at", "password", "last_login")

    def __init__(self, merged_into: dict[str, str] | None = None, verified: set[str] | None = None):
        self.merged_into = merged_into or {}
        self.verified = verified or set()  # winners of a merge one of whose documents was verified

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        if rows.target_id in self.merged_into:
            rows.merged = True
            rows.target_id = self.merged_into[rows.target_id]
            rows.notes.append(f"email differs only by case from {rows.target_id}'s: merged into that account")
            return rows
        try:
            address = values.email(doc.get("email"))
        except Invalid as exc:
            raise Reject(f"email: {exc}") from None
        password = doc.get("password")
        if isinstance(password, str) and re.match(r"^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$", password):
            password = "bcrypt$" + password
        else:
            rows.notes.append("no bcrypt password hash: the account signs in after a password reset")
            password = "!" + child_id("unusable", rows.target_id)  # Django's unusable-password form
        verified = checked(rows, "isEmailVerified", lambda v: values.flag(v, False), doc.get("isEmailVerified"), False)
        rows.add(
            User,
            id=rows.target_id,
            email=address,
            password=password,
            name=limited(rows, "name", values.text(doc.get("name")).strip(), 100),
            avatar=limited(rows, "avatar", values.text(doc.get("avatar")), 500),
            bio=limited(rows, "bio", values.text(doc.get("bio")), 500),
            is_email_verified=verified or rows.target_id in self.verified,
            is_active=True,
            is_staff=False,
            is_superuser=False,
            last_login=None,
            created_at=created,
            updated_at=updated,
        )
        return rows


class UserSettingsSpec(Spec):
    collection, model = "usersettings", UserSettings
    refs = {"userId": ("users", False)}

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        crossfade = checked(rows, "crossfade", values.seconds, doc.get("crossfade"), 0.0)
        if crossfade > 12:
            rows.notes.append(f"crossfade {crossfade:g} s is more than 12: 12 used")
        rows.add(
            UserSettings,
            id=rows.target_id,
            user_id=self.required(refs, doc, "userId", "users"),
            theme=choice(rows, "theme", doc.get("theme"), UserSettings.Theme.values, "dark"),
            audio_quality=choice(
                rows, "audioQuality", doc.get("audioQuality"), UserSettings.AudioQuality.values, "high"
            ),
            autoplay=checked(rows, "autoplay", lambda v: values.flag(v, True), doc.get("autoplay"), True),
            crossfade_seconds=min(12, round(crossfade)),
            normalize_volume=True,
            equalizer=self.equalizer(rows, doc.get("equalizer")),
            shuffle=False,
            loop="off",
            private_session=False,
            language=limited(rows, "language", values.text(doc.get("language")).strip() or "en", 10),
            created_at=created,
            updated_at=updated,
        )
        return rows

    @staticmethod
    def equalizer(rows: Rows, value: Any) -> dict:
        if value is None:
            return default_equalizer()
        if not isinstance(value, dict):
            rows.notes.append("equalizer is not an object: the flat default used")
            return default_equalizer()
        result = default_equalizer()
        result["enabled"] = checked(
            rows, "equalizer.enabled", lambda v: values.flag(v, False), value.get("enabled"), False
        )
        result["preset"] = choice(rows, "equalizer.preset", value.get("preset"), PRESET_NAMES, "flat")
        bands = value.get("bands")
        if bands is not None:
            ok = isinstance(bands, list) and len(bands) == len(BAND_FREQUENCIES_HZ)
            ok = ok and all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in bands)
            if ok:
                result["bands"] = [max(-BAND_LIMIT_DB, min(BAND_LIMIT_DB, float(b))) for b in bands]
                if result["bands"] != [float(b) for b in bands]:
                    rows.notes.append(f"equalizer bands beyond ±{BAND_LIMIT_DB:g} dB were clipped: {bands}")
            else:
                rows.notes.append(f"equalizer bands {str(bands)[:80]} are not 10 numbers: flat used")
        return result


class Albums(Spec):
    collection, model = "albums", Album

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        name = limited(rows, "name", values.text(doc.get("name")).strip(), 200)
        if not name:
            raise Reject("the album has no name")
        rows.add(
            Album,
            id=rows.target_id,
            name=name,
            desc=values.text(doc.get("desc")),
            image=limited(rows, "image", values.text(doc.get("image")), 500),
            bg_colour=checked(rows, "bgColour", values.colour, doc.get("bgColour"), "#121212"),
            artist_id=None,
            release_date=None,
            created_at=created,
            updated_at=updated,
        )
        return rows


class Songs(Spec):
    collection, model = "songs", Song

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        name = limited(rows, "name", values.text(doc.get("name")).strip(), 200)
        if not name:
            raise Reject("the song has no name")
        audio = values.text(doc.get("file")).strip()
        if not audio:
            raise Reject("the song has no audio file")
        if len(audio) > 500:
            raise Reject(f"the audio URL is longer than 500 characters: {audio[:80]!r}...")
        desc = values.text(doc.get("desc"))
        rows.add(
            Song,
            id=rows.target_id,
            name=name,
            desc=desc,
            image=limited(rows, "image", values.text(doc.get("image")), 500),
            file=audio,
            duration=checked(rows, "duration", values.seconds, doc.get("duration"), 0.0),
            album_id=self.album(rows, refs, doc.get("album"), desc, values.text(doc.get("image"))),
            artist_id=None,
            genre_id=None,
            track_number=None,
            created_at=created,
            updated_at=updated,
        )
        return rows

    @staticmethod
    def album(rows: Rows, refs: Refs, value: Any, desc: str, image: str) -> str | None:
        """The album named by the song (the legacy app linked them by name). Two albums of one
        name: the one whose description shares the most words with the song's (its artist,
        typically), else the one with the same cover; otherwise none, and the report says so."""
        if values.object_id(value) and refs.get("albums", value):  # an id, as newer documents have
            return refs.get("albums", value)
        name = values.text(value).strip() if not isinstance(value, (dict, list)) else ""
        if not name or name.lower() == "none":
            return None
        candidates = refs.albums_by_name.get(name.lower(), [])
        if not candidates:
            rows.notes.append(f"album {name!r}: no album has that name; the song has none")
            return None
        if len(candidates) == 1:
            return candidates[0][0]
        words = set(re.findall(r"\w+", desc.lower()))
        scored = sorted(((len(words & set(re.findall(r"\w+", d.lower()))), i) for i, d in candidates), reverse=True)
        if scored[0][0] > 0 and scored[0][0] > scored[1][0]:
            rows.notes.append(
                f"album {name!r} names {len(candidates)} albums: {scored[0][1]} chosen by the description"
            )
            return scored[0][1]
        ids = ", ".join(sorted(i for i, _ in candidates))
        rows.notes.append(
            f"album {name!r} names {len(candidates)} albums ({ids}) and nothing tells them apart: none set"
        )
        return None

    @staticmethod
    def album_names(doc: dict[str, Any]) -> Iterator[str]:
        value = doc.get("album")
        if isinstance(value, str) and value.strip() and value.strip().lower() != "none":
            yield value.strip().lower()


class LyricsSpec(Spec):
    collection, model = "lyrics", Lyrics
    refs = {"songId": ("songs", False)}

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        synced_lrc, synced = values.text(doc.get("synced")), None
        if synced_lrc.strip():
            try:
                synced = lrc.as_json(lrc.parse(synced_lrc))
            except lrc.LrcError as exc:
                rows.notes.append(f"synced lyrics do not parse ({exc}): kept as text, not synced")
        rows.add(
            Lyrics,
            id=rows.target_id,
            song_id=self.required(refs, doc, "songId", "songs"),
            plain=values.text(doc.get("plain")),
            synced_lrc=synced_lrc,
            synced=synced,
            created_at=created,
            updated_at=updated,
        )
        return rows


class Playlists(Spec):
    collection, model = "playlists", Playlist
    refs = {"userId": ("users", False), "songIds": ("songs", True)}
    replaced = {PlaylistSong: "playlist_id"}

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        owner = self.required(refs, doc, "userId", "users")
        song_ids = self.id_list(rows, refs, doc, "songIds", "songs")
        name = limited(rows, "name", values.text(doc.get("name")).strip(), 100) or "Untitled playlist"
        rows.add(
            Playlist,
            id=rows.target_id,
            owner_id=owner,
            name=name,
            desc=limited(rows, "desc", values.text(doc.get("desc")), 300),
            banner=limited(rows, "banner", values.text(doc.get("banner")), 500),
            is_public=checked(rows, "isPublic", lambda v: values.flag(v, False), doc.get("isPublic"), False),
            collaborative=checked(
                rows, "collaborative", lambda v: values.flag(v, False), doc.get("collaborative"), False
            ),
            song_count=len(song_ids),
            created_at=created,
            updated_at=updated,
        )
        for position, song_id in enumerate(song_ids):
            rows.add(
                PlaylistSong,
                id=child_id("playlist", rows.target_id, song_id),
                playlist_id=rows.target_id,
                song_id=song_id,
                position=position,
                added_by_id=owner,
                created_at=created,
                updated_at=updated,
            )
        return rows


class Libraries(Spec):
    """Likes. MongoDB kept them as lists, oldest first, without dates: each gets the library's
    update time minus its distance from the end in milliseconds, so the newest stays first."""

    collection, model = "libraries", LikedSong  # the document itself has no row of its own
    refs = {"userId": ("users", False), "likedSongIds": ("songs", True), "likedAlbumIds": ("albums", True)}
    added = (LikedSong, LikedAlbum)

    def convert(self, doc, refs):
        rows, _created, updated = self.start(doc)
        user = self.required(refs, doc, "userId", "users")
        for model, name, kind, column in (
            (LikedSong, "likedSongIds", "songs", "song_id"),
            (LikedAlbum, "likedAlbumIds", "albums", "album_id"),
        ):
            liked = self.id_list(rows, refs, doc, name, kind)
            for index, object_id in enumerate(liked):
                at = updated - timedelta(milliseconds=len(liked) - 1 - index)
                row = {"id": child_id("like", user, object_id), "user_id": user, column: object_id}
                rows.add(model, **row, created_at=at, updated_at=at)
        rows.target_id = user
        return rows


class Plays(Spec):
    collection, model = "recentlyplayeds", Play
    refs = {"userId": ("users", False), "songId": ("songs", False)}
    bulk = True
    contexts = frozenset(Play.Context.values)
    FAST_COLUMNS = (
        "id", "user_id", "song_id", "played_at", "play_duration", "skipped", "context_type", "context_id",
        "is_private", "created_at", "updated_at",
    )  # fmt: skip
    FAST_TYPES = (
        "text", "text", "text", "timestamptz", "float8", "bool", "text", "text", "bool", "timestamptz", "timestamptz",
    )  # fmt: skip

    def fast_row(self, doc: dict[str, Any], user_aliases: dict[str, str]) -> tuple | None:
        """The row of a play as the Express app wrote them (ObjectIds, a number of seconds,
        dates, a context of ours): what convert() makes of it, minus the checks such a play
        does not need (its references are looked up by the caller). None for any other shape,
        which goes through convert(). test_import_mongo checks that both agree."""
        object_id, user, song = doc.get("_id"), doc.get("userId"), doc.get("songId")
        if type(object_id) is not ObjectId or type(user) is not ObjectId or type(song) is not ObjectId:
            return None
        duration = doc.get("playDuration") or 0
        skipped = doc.get("skipped", False)
        context = doc.get("contextType") or "other"
        context_id = doc.get("contextId")
        if (
            type(duration) not in (int, float)
            or not 0 <= duration < 864_000
            or type(skipped) is not bool
            or context not in self.contexts
        ):
            return None
        if context_id is None:
            context_id = ""
        elif type(context_id) is ObjectId:
            context_id = context_id.binary.hex()
        elif type(context_id) is str and len(context_id) <= 200 and "\x00" not in context_id:
            context_id = values.object_id(context_id) or context_id
        else:
            return None
        hex_id = object_id.binary.hex()
        created, updated, played = doc.get("createdAt"), doc.get("updatedAt"), doc.get("playedAt")
        if created is None:
            created = values.id_time(hex_id)
        elif type(created) is not datetime:
            return None
        if updated is None:
            updated = created
        elif type(updated) is not datetime:
            return None
        if played is None:
            played = created
        elif type(played) is not datetime:
            return None
        user_id = user.binary.hex()
        return (
            hex_id, user_aliases.get(user_id, user_id), song.binary.hex(), played, round(float(duration), 3),
            skipped, context, context_id, False, created, updated,
        )  # fmt: skip

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        user = self.required(refs, doc, "userId", "users")
        song = self.required(refs, doc, "songId", "songs")
        try:
            duration = values.seconds(doc.get("playDuration") or 0)
        except Invalid as exc:
            raise Reject(f"playDuration: {exc}") from None
        context = doc.get("contextType")
        context_type = (
            context if context in self.contexts else choice(rows, "contextType", context, self.contexts, "other")
        )
        rows.add(
            Play,
            id=rows.target_id,
            user_id=user,
            song_id=song,
            played_at=checked(rows, "playedAt", values.moment, doc.get("playedAt"), None) or created,
            play_duration=duration,
            skipped=checked(rows, "skipped", lambda v: values.flag(v, False), doc.get("skipped"), False),
            context_type=context_type,
            context_id=limited(
                rows, "contextId", values.text(values.object_id(doc.get("contextId")) or doc.get("contextId")), 200
            ),
            is_private=False,
            created_at=created,
            updated_at=updated,
        )
        return rows


class RecentSearches(Spec):
    collection, model = "recentsearches", RecentSearch
    refs = {"userId": ("users", False)}

    def convert(self, doc, refs):
        rows, created, _updated = self.start(doc)
        query = values.text(doc.get("query")).strip()
        if not query:
            raise Reject("the query is empty")
        at = checked(rows, "searchedAt", values.moment, doc.get("searchedAt"), None) or created
        rows.add(
            RecentSearch,
            id=rows.target_id,
            user_id=self.required(refs, doc, "userId", "users"),
            query=limited(rows, "query", query, 100),
            created_at=at,
            updated_at=at,
        )
        return rows


class Recommendations(Spec):
    """One document per user with its songs best first; recomputed after the import anyway."""

    collection, model = "recommendations", Recommendation
    refs = {"userId": ("users", False), "songIds": ("songs", True)}
    replaced = {Recommendation: "user_id"}
    recomputed = (Recommendation,)  # compute_recommendations replaces them after the import

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        user = self.required(refs, doc, "userId", "users")
        reason = choice(rows, "reason", doc.get("reason"), Recommendation.Reason.values, "popular")
        generated = checked(rows, "generatedAt", values.moment, doc.get("generatedAt"), None) or updated
        songs = self.id_list(rows, refs, doc, "songIds", "songs")
        for rank, song in enumerate(songs, start=1):
            rows.add(
                Recommendation,
                id=child_id("recommendation", user, song),
                user_id=user,
                song_id=song,
                rank=rank,
                score=float(len(songs) - rank + 1),
                reason=reason,
                generated_at=generated,
                created_at=created,
                updated_at=updated,
            )
        rows.target_id = user
        return rows


class Sessions(Spec):
    collection, model = "sessions", ListeningSession
    refs = {"hostId": ("users", False), "currentSongId": ("songs", False), "queueIds": ("songs", True)}
    replaced = {QueueItem: "session_id"}
    not_verified = ("updated_at", "is_active", "ended_at", "end_reason", "revision", "position", "position_set_at")

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        host = self.required(refs, doc, "hostId", "users")
        code = values.text(doc.get("sessionCode")).strip().upper()
        if not code or len(code) > 24:
            raise Reject(f"sessionCode {code[:40]!r} is not a join code")
        active = checked(rows, "isActive", lambda v: values.flag(v, False), doc.get("isActive"), False)
        expires = checked(rows, "expiresAt", values.moment, doc.get("expiresAt"), None) or updated
        queue = self.id_list(rows, refs, doc, "queueIds", "songs")
        rows.add(
            ListeningSession,
            id=rows.target_id,
            code=code,
            name=limited(rows, "name", values.text(doc.get("name")).strip(), 100),
            host_id=host,
            is_active=active,
            current_song_id=self.optional(rows, refs, doc, "currentSongId", "songs"),
            current_added_by_id=None,
            position=max(0.0, checked(rows, "currentTime", values.seconds, doc.get("currentTime"), 0.0)),
            position_set_at=updated,
            is_playing=active
            and checked(rows, "isPlaying", lambda v: values.flag(v, False), doc.get("isPlaying"), False),
            shuffle=False,
            loop="off",
            guests_can_control=False,
            fair_queue=False,  # the party's additions (issue 16): the old app had none of them
            queue_limit=None,
            skip_share=0.5,
            track=0,
            revision=0,
            expires_at=expires,
            ended_at=None if active else min(updated, expires),
            end_reason="" if active else ("expired" if expires <= updated else "ended_by_host"),
            created_at=created,
            updated_at=updated,
        )
        for position, song in enumerate(queue):
            rows.add(
                QueueItem,
                id=child_id("queue", rows.target_id, str(position)),
                session_id=rows.target_id,
                song_id=song,
                added_by_id=None,
                position=position,
                created_at=created,
                updated_at=updated,
            )
        return rows


class Participants(Spec):
    collection, model = "sessionparticipants", SessionParticipant
    refs = {"sessionId": ("sessions", False), "userId": ("users", False)}

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        joined = checked(rows, "joinedAt", values.moment, doc.get("joinedAt"), None) or created
        rows.add(
            SessionParticipant,
            id=rows.target_id,
            session_id=self.required(refs, doc, "sessionId", "sessions"),
            user_id=self.required(refs, doc, "userId", "users"),
            joined_at=joined,
            left_at=checked(rows, "leftAt", values.moment, doc.get("leftAt"), None),
            removed_at=None,
            wants_recap=False,
            recap_id=None,
            created_at=created,
            updated_at=updated,
        )
        return rows


class ChatMessages(Spec):
    """A message whose author no longer exists is kept, without an author: nothing anyone
    wrote is lost."""

    collection, model = "chatmessages", ChatMessage
    refs = {"sessionId": ("sessions", False), "userId": ("users", False)}

    def convert(self, doc, refs):
        rows, created, updated = self.start(doc)
        text = values.text(doc.get("text"))
        if not text.strip():
            raise Reject("the message is empty")
        rows.add(
            ChatMessage,
            id=rows.target_id,
            session_id=self.required(refs, doc, "sessionId", "sessions"),
            user_id=self.optional(rows, refs, doc, "userId", "users"),
            text=text,
            created_at=created,
            updated_at=updated,
        )
        return rows


# Dependency order: every reference points at a collection imported before.
SPECS: tuple[type[Spec], ...] = (
    Users,
    UserSettingsSpec,
    Albums,
    Songs,
    LyricsSpec,
    Playlists,
    Libraries,
    Plays,
    RecentSearches,
    Recommendations,
    Sessions,
    Participants,
    ChatMessages,
)
