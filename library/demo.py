"""Material for the demo catalog, made locally: short playable melodies (WAV), covers, lyrics."""

import hashlib
import io
import math
import random
import struct
import wave

from PIL import Image, ImageDraw, ImageOps

SAMPLE_RATE = 16_000
PENTATONIC = [0, 2, 4, 7, 9, 12, 14, 16]  # semitones above the root


def demo_id(*parts: str) -> str:
    """A stable ObjectId-shaped id, so running seed_demo twice finds the same rows."""
    return hashlib.sha256("/".join(("demo", *parts)).encode()).hexdigest()[:24]


def melody_wav(seed: str, seconds: float = 6.0) -> bytes:
    """A little pentatonic tune with a soft attack and release on every note (no clicks)."""
    rng = random.Random(seed)
    root = 220 * 2 ** (rng.randrange(0, 7) / 12)
    note_len = rng.choice([0.25, 0.3, 0.375])
    samples = bytearray()
    t = 0.0
    while t < seconds:
        freq = root * 2 ** (rng.choice(PENTATONIC) / 12)
        count = int(note_len * SAMPLE_RATE)
        for i in range(count):
            envelope = min(1.0, i / 400, (count - i) / 800)
            value = (
                math.sin(2 * math.pi * freq * i / SAMPLE_RATE) * 0.6
                + math.sin(4 * math.pi * freq * i / SAMPLE_RATE) * 0.15
            )
            samples += struct.pack("<h", int(value * envelope * 12000))
        t += note_len
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(SAMPLE_RATE)
        wav.writeframes(bytes(samples))
    return out.getvalue()


def cover_png(seed: str, side: int = 600) -> bytes:
    """A two-colour gradient with a few discs: recognisably different per album."""
    rng = random.Random(seed)
    top = tuple(rng.randrange(30, 230) for _ in range(3))
    bottom = tuple(rng.randrange(0, 120) for _ in range(3))
    image = Image.new("RGB", (side, side))
    draw = ImageDraw.Draw(image)
    for y in range(side):
        mix = y / side
        draw.line(
            [(0, y), (side, y)], fill=tuple(int(a * (1 - mix) + b * mix) for a, b in zip(top, bottom, strict=True))
        )
    for _ in range(rng.randrange(2, 5)):
        r = rng.randrange(side // 10, side // 3)
        x, y = rng.randrange(0, side), rng.randrange(0, side)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(255, 255, 255), width=max(2, side // 100))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def cover_webp(seed: str, side: int = 600) -> bytes:
    """A cover made fast (a coloured gradient and a few rings), as the square WebP the media store
    keeps: hundreds of albums get theirs in seconds."""
    rng = random.Random(seed)
    top = tuple(rng.randrange(30, 230) for _ in range(3))
    bottom = tuple(rng.randrange(0, 120) for _ in range(3))
    gradient = Image.linear_gradient("L").resize((side, side))
    if rng.random() < 0.5:
        gradient = gradient.transpose(Image.Transpose.ROTATE_90)
    image = ImageOps.colorize(gradient, top, bottom)
    draw = ImageDraw.Draw(image)
    for _ in range(rng.randrange(2, 5)):
        r = rng.randrange(side // 10, side // 3)
        x, y = rng.randrange(0, side), rng.randrange(0, side)
        draw.ellipse([x - r, y - r, x + r, y + r], outline=(255, 255, 255), width=max(2, side // 100))
    out = io.BytesIO()
    image.save(out, "WEBP", quality=80, method=2)
    return out.getvalue()


def bg_colour(seed: str) -> str:
    rng = random.Random(seed)
    return "#{:02x}{:02x}{:02x}".format(*(rng.randrange(20, 120) for _ in range(3)))


def lyrics_for(title: str) -> tuple[str, str]:
    """Plain lyrics and their LRC, timed to the 6-second demo tunes."""
    lines = [f"{title}, hum it low", "Six short seconds, then we go", "Hum it again, hum it slow"]
    lrc = [f"[ti:{title}]", "[ar:Demo]", ""] + [f"[00:{i * 2:02d}.00]{line}" for i, line in enumerate(lines)]
    return "\n".join(lines), "\n".join(lrc)
