"""Dumps of the Express app's MongoDB (../shared/MONGO.md), built with pymongo's `bson`:
`write_dump` lays them out as `mongodump` does (BSON + metadata) or as `mongoexport` does
(Extended JSON, one document per line)."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import bcrypt
import bson
from bson import ObjectId, json_util
from bson.json_util import JSONMode, JSONOptions

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
PASSWORDS = {"ada": "ada-old-Password1", "ben": "ben-old-Password2", "cleo": "cleo-old-Password3"}


def oid(n: int) -> ObjectId:
    """A readable, stable ObjectId whose time is T0 + n seconds."""
    return ObjectId(f"{int((T0 + timedelta(seconds=n)).timestamp()):08x}{n:016x}")


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def bcryptjs(password: str) -> str:
    """A hash as bcryptjs wrote them ($2a$, cost 4 to keep the tests fast), with a salt drawn
    from the password so that a dump built twice is the same dump."""
    alphabet = "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
    digest = hashlib.sha256(password.encode()).digest()
    salt = "$2a$04$" + "".join(alphabet[b % 64] for b in digest[:21]) + "."
    return bcrypt.hashpw(password.encode()[:72], salt.encode()).decode()


def write_dump(folder: Path, collections: dict[str, list[dict]], *, form: str = "bson") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, docs in collections.items():
        if form == "bson":
            (folder / f"{name}.bson").write_bytes(b"".join(bson.encode(doc) for doc in docs))
            (folder / f"{name}.metadata.json").write_text(json.dumps({"collectionName": name, "indexes": []}))
        else:
            options = JSONOptions(json_mode=JSONMode.CANONICAL if form == "canonical" else JSONMode.RELAXED)
            lines = (json_util.dumps(doc, json_options=options) for doc in docs)
            (folder / f"{name}.json").write_text("".join(line + "\n" for line in lines))
    return folder


def realistic() -> dict[str, list[dict]]:
    """A small but complete copy of the app: three listeners, a catalog, their libraries,
    playlists, plays, searches, recommendations and a listening party with its chat."""
    ada, ben, cleo = oid(1), oid(2), oid(3)
    users = [
        {
            "_id": ada,
            "email": "ada@example.com",
            "password": bcryptjs(PASSWORDS["ada"]),
            "name": "Ada Lovelace",
            "avatar": "https://res.cloudinary.com/demo/image/upload/ada.png",
            "bio": "Engines and tunes",
            "isEmailVerified": True,
            "refreshToken": "old-refresh-token-not-imported",
            "createdAt": at(0),
            "updatedAt": at(5),
        },
        {
            "_id": ben,
            "email": "ben@example.com",
            "password": bcryptjs(PASSWORDS["ben"]),
            "name": "Ben",
            "isEmailVerified": True,
            "createdAt": at(1),
            "updatedAt": at(1),
        },
        {
            "_id": cleo,
            "email": "cleo@example.com",
            "password": bcryptjs(PASSWORDS["cleo"]),
            "name": "Cléo",
            "isEmailVerified": False,
            "createdAt": at(2),
            "updatedAt": at(2),
        },
    ]
    settings = [
        {
            "_id": oid(11),
            "userId": ada,
            "theme": "light",
            "audioQuality": "very_high",
            "autoplay": False,
            "crossfade": 5,
            "equalizer": {"enabled": True, "preset": "rock", "bands": [5, 4, 3, 1, -1, -1, 1, 3, 4, 5]},
            "language": "fr",
            "createdAt": at(0),
            "updatedAt": at(6),
        },
        {"_id": oid(12), "userId": str(ben), "createdAt": at(1)},
    ]
    albums = [
        {
            "_id": oid(21),
            "name": "Abbey Road",
            "desc": "The Beatles",
            "bgColour": "#2a4d69",
            "image": "https://img/abbey.jpg",
            "createdAt": at(3),
        },
        {
            "_id": oid(22),
            "name": "Homogenic",
            "desc": "Björk",
            "bgColour": "#8a2be2",
            "image": "https://img/homogenic.jpg",
            "createdAt": at(3),
        },
        {
            "_id": oid(23),
            "name": "Kind of Blue",
            "desc": "Miles Davis",
            "bgColour": "#1e3a5f",
            "image": "https://img/kob.jpg",
            "createdAt": at(3),
        },
    ]
    songs = []
    titles = [
        ("Come Together", "The Beatles", "Abbey Road", "4:20"),
        ("Something", "The Beatles", "Abbey Road", "3:03"),
        ("Here Comes the Sun", "The Beatles", "Abbey Road", "3:05"),
        ("Jóga", "Björk", "Homogenic", "5:05"),
        ("Bachelorette", "Björk", "Homogenic", "5:12"),
        ("So What", "Miles Davis", "Kind of Blue", "9:22"),
        ("Blue in Green", "Miles Davis", "Kind of Blue", "5:37"),
        ("Untitled Demo", "Ada Lovelace", "none", "1:02"),
    ]
    for n, (name, artist, album, duration) in enumerate(titles, start=31):
        songs.append(
            {
                "_id": oid(n),
                "name": name,
                "desc": artist,
                "album": album,
                "image": f"https://img/{n}.jpg",
                "file": f"https://audio/{n}.mp3",
                "duration": duration,
                "createdAt": at(4),
                "updatedAt": at(4),
            }
        )
    lyrics = [
        {
            "_id": oid(41),
            "songId": oid(33),
            "plain": "Here comes the sun\nAnd I say it's all right",
            "synced": "[ti:Here Comes the Sun]\n[00:12.50]Here comes the sun\n[00:17.00]And I say it's all right",
            "createdAt": at(4),
        }
    ]
    playlists = [
        {
            "_id": oid(51),
            "userId": ada,
            "name": "Sunday morning",
            "desc": "Slow starts",
            "banner": "",
            "songIds": [oid(37), oid(33), oid(34), oid(36)],
            "isPublic": True,
            "collaborative": False,
            "createdAt": at(10),
            "updatedAt": at(12),
        },
        {
            "_id": oid(52),
            "userId": ben,
            "name": "Private mix",
            "songIds": [str(oid(31)), oid(32)],
            "isPublic": False,
            "createdAt": at(11),
        },
    ]
    libraries = [
        {
            "_id": oid(61),
            "userId": ada,
            "likedSongIds": [oid(31), oid(34), oid(36)],
            "likedAlbumIds": [oid(22)],
            "createdAt": at(7),
            "updatedAt": at(30),
        },
        {
            "_id": oid(62),
            "userId": ben,
            "likedSongIds": [oid(35)],
            "likedAlbumIds": [],
            "createdAt": at(8),
            "updatedAt": at(31),
        },
    ]
    plays = [
        {
            "_id": oid(100 + i),
            "userId": (ada, ben, cleo)[i % 3],
            "songId": oid(31 + i % 7),
            "playDuration": 60 + i,
            "skipped": i % 5 == 0,
            "contextType": ("album", "playlist", "search")[i % 3],
            "contextId": str(oid(21)) if i % 3 == 0 else "",
            "playedAt": at(40 + i),
            "createdAt": at(40 + i),
        }
        for i in range(30)
    ]
    searches = [
        {"_id": oid(201), "userId": ada, "query": "beatles", "searchedAt": at(50)},
        {"_id": oid(202), "userId": ada, "query": "björk", "searchedAt": at(51)},
        {"_id": oid(203), "userId": ben, "query": "miles", "searchedAt": at(52)},
    ]
    recommendations = [
        {"_id": oid(211), "userId": ada, "songIds": [oid(35), oid(32)], "reason": "co_listening", "generatedAt": at(60)}
    ]
    sessions = [
        {
            "_id": oid(301),
            "sessionCode": "PARTY7",
            "name": "Friday party",
            "hostId": ada,
            "isActive": False,
            "currentSongId": oid(31),
            "currentTime": 42.5,
            "isPlaying": False,
            "queueIds": [oid(32), oid(33)],
            "expiresAt": at(300),
            "createdAt": at(100),
            "updatedAt": at(200),
        }
    ]
    participants = [
        {"_id": oid(311), "sessionId": oid(301), "userId": ben, "joinedAt": at(101), "leftAt": at(190)},
        {"_id": oid(312), "sessionId": oid(301), "userId": cleo, "joinedAt": at(102)},
    ]
    chat = [
        {"_id": oid(321), "sessionId": oid(301), "userId": ben, "text": "great pick!", "createdAt": at(110)},
        {"_id": oid(322), "sessionId": oid(301), "userId": ada, "text": "next one is better", "createdAt": at(111)},
    ]
    return {
        "users": users,
        "usersettings": settings,
        "albums": albums,
        "songs": songs,
        "lyrics": lyrics,
        "playlists": playlists,
        "libraries": libraries,
        "recentlyplayeds": plays,
        "recentsearches": searches,
        "recommendations": recommendations,
        "sessions": sessions,
        "sessionparticipants": participants,
        "chatmessages": chat,
    }


LONG_PASSWORD = "a passphrase much longer than seventy-two bytes, which bcryptjs cut at 72 bytes silently"


def edge_cases() -> dict[str, list[dict]]:
    """Every legacy shape MONGO.md warns about, in one dump."""
    data = realistic()
    ada, ben = oid(1), oid(2)
    data["users"] += [
        # Same mailbox as ada, another case, signed up later: merged into ada's account.
        {
            "_id": oid(4),
            "email": "ADA@Example.com",
            "password": bcryptjs("other"),
            "name": "Ada again",
            "createdAt": at(20),
        },
        # Emails in other cases, the older one unverified: still merged into the older, now verified.
        {
            "_id": oid(5),
            "email": "Dan@Example.com",
            "password": bcryptjs("dan-pass-1"),
            "name": "Dan",
            "isEmailVerified": False,
            "createdAt": at(21),
        },
        {
            "_id": oid(6),
            "email": "dan@example.com",
            "password": bcryptjs("dan-pass-2"),
            "name": "Dan 2",
            "isEmailVerified": True,
            "createdAt": at(22),
        },
        {
            "_id": oid(7),
            "email": "long@example.com",
            "password": bcryptjs(LONG_PASSWORD),
            "name": "L" * 130,
            "isEmailVerified": True,
        },
        {"_id": oid(8), "email": "not-an-email", "password": bcryptjs("x"), "name": "Broken"},
        {"_id": oid(9), "email": "nopass@example.com", "name": "No password", "isEmailVerified": "true"},
        {"_id": "legacy-string-id", "email": "weird@example.com", "name": "Weird id"},
    ]
    data["usersettings"] += [
        {"_id": oid(13), "userId": oid(7), "crossfade": "0:30", "theme": "neon", "equalizer": {"bands": [1, 2, 3]}},
        {"_id": oid(14), "userId": ada, "theme": "dark"},  # ada already has settings
        {"_id": oid(15), "userId": oid(999), "theme": "dark"},  # dangling
    ]
    data["albums"] += [
        # Two albums named "Greatest Hits": songs tell them apart by the artist in `desc`.
        {"_id": oid(24), "name": "Greatest Hits", "desc": "Queen", "bgColour": "#abc"},
        {"_id": oid(25), "name": "Greatest Hits", "desc": "ABBA", "bgColour": "blue"},
    ]
    data["songs"] += [
        {
            "_id": oid(46),
            "name": "Bohemian Rhapsody",
            "desc": "Queen",
            "album": "Greatest Hits",
            "file": "https://audio/46.mp3",
            "duration": "0:05:55",
        },
        {
            "_id": oid(47),
            "name": "Waterloo",
            "desc": "ABBA",
            "album": "greatest hits",
            "file": "https://audio/47.mp3",
            "duration": 168,
        },
        {
            "_id": oid(48),
            "name": "Mystery",
            "desc": "Someone",
            "album": "Greatest Hits",
            "file": "https://audio/48.mp3",
            "duration": "3:5x",
        },
        {
            "_id": str(oid(49)),
            "name": "String id song",
            "desc": "",
            "album": "No Such Album",
            "file": "https://audio/49.mp3",
            "duration": "1:01:01",
        },
        {"_id": oid(50), "name": "No audio", "desc": "", "album": "none", "duration": "2:00"},
    ]
    data["lyrics"] += [
        {"_id": oid(44), "songId": str(oid(31)), "plain": "Here come old flat top", "synced": "not lrc at all"},
        {"_id": oid(45), "songId": oid(50), "plain": "song was rejected"},
    ]
    data["playlists"] += [
        {
            "_id": oid(53),
            "userId": oid(4),  # the merged account: the playlist follows to ada
            "name": "Duplicates & dangling",
            "songIds": [oid(31), oid(999), str(oid(31)), oid(32), "not-an-id"],
            "isPublic": "yes",
        },
        {"_id": oid(54), "userId": oid(998), "name": "Owner gone"},
    ]
    data["recentlyplayeds"] += [
        {"_id": oid(150), "userId": ada, "songId": oid(50), "playDuration": 10},  # song rejected
        {"_id": oid(151), "userId": oid(4), "songId": oid(31), "playDuration": "1:30", "contextType": "radio"},
        {"_id": oid(152), "userId": ben, "songId": oid(31), "playDuration": -5},
    ]
    data["recentsearches"] += [
        {"_id": oid(204), "userId": ada, "query": "BEATLES", "searchedAt": at(53)},  # same query, other case
        {"_id": oid(205), "userId": ada, "query": "   ", "searchedAt": at(54)},
    ]
    data["sessions"] += [
        # Two active sessions with one code: the second is imported as ended.
        {
            "_id": oid(302),
            "sessionCode": "abc123",
            "hostId": ben,
            "isActive": True,
            "expiresAt": at(10**6),
            "createdAt": at(400),
        },
        {
            "_id": oid(303),
            "sessionCode": "ABC123",
            "hostId": ada,
            "isActive": True,
            "expiresAt": at(10**6),
            "createdAt": at(401),
        },
        {"_id": oid(304), "sessionCode": "LEGACY-CODE-12", "hostId": ada, "isActive": False, "createdAt": at(402)},
    ]
    data["sessionparticipants"] += [
        {"_id": oid(313), "sessionId": oid(301), "userId": ben, "joinedAt": at(195)},  # ben again
        {"_id": oid(314), "sessionId": oid(399), "userId": ben},
    ]
    data["chatmessages"] += [
        {"_id": oid(323), "sessionId": oid(301), "userId": oid(997), "text": "I deleted my account, my words stay"},
        {"_id": oid(324), "sessionId": oid(301), "userId": ben, "text": ""},
    ]
    return data
