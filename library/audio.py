"""Audio uploads: accepted by what the bytes are (mutagen), and timed from the file itself."""

import io
from dataclasses import dataclass

import mutagen
from django.conf import settings

from musicapp.platform.errors import InvalidInput, TooLarge

# mutagen's name for the format -> (file extension, MIME type)
AUDIO_FORMATS = {
    "MP3": ("mp3", "audio/mpeg"),
    "MP4": ("m4a", "audio/mp4"),
    "OggVorbis": ("ogg", "audio/ogg"),
    "OggOpus": ("opus", "audio/ogg"),
    "FLAC": ("flac", "audio/flac"),
    "WAVE": ("wav", "audio/wav"),
}
NOT_AUDIO = "This is not an audio file we can play (MP3, M4A/AAC, Ogg Vorbis/Opus, FLAC or WAV), or it is damaged."


@dataclass(frozen=True)
class CheckedAudio:
    data: bytes
    ext: str
    mime: str
    duration: float
    title: str = ""
    track_number: int | None = None


def check_audio(upload, *, field: str = "file") -> CheckedAudio:
    if upload is None:
        raise InvalidInput(f"{field}: no file was sent.", errors={field: ["No file was sent."]})
    if upload.size > settings.AUDIO_MAX_BYTES:
        raise TooLarge(f"{field}: the file is larger than {settings.AUDIO_MAX_BYTES // (1024 * 1024)} MB.")
    data = upload.read()
    try:
        parsed = mutagen.File(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - untrusted bytes: any parser failure means "not audio we can play"
        parsed = None
    kind = type(parsed).__name__ if parsed is not None else None
    duration = getattr(getattr(parsed, "info", None), "length", 0) or 0
    if kind not in AUDIO_FORMATS or duration <= 0:
        raise InvalidInput(f"{field}: {NOT_AUDIO}", errors={field: [NOT_AUDIO]})
    ext, mime = AUDIO_FORMATS[kind]
    title, track = _tags(data)
    return CheckedAudio(
        data=data, ext=ext, mime=mime, duration=round(float(duration), 3), title=title, track_number=track
    )


def _tags(data: bytes) -> tuple[str, int | None]:
    """Title and track number from the file's tags, where it has them ("3/12" -> 3)."""
    try:
        tags = mutagen.File(io.BytesIO(data), easy=True).tags or {}
    except Exception:  # noqa: BLE001 - tags are a nicety; unreadable ones are simply absent
        return "", None
    title = (tags.get("title") or [""])[0][:200]
    track = (tags.get("tracknumber") or [""])[0].split("/")[0]
    return title, int(track) if track.isdigit() and 0 < int(track) < 1000 else None
