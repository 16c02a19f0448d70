"""LRC (synced lyrics) parsing.

    [ti:Song] [ar:Artist] [offset:+250]      tags; offset in ms, positive = lyrics earlier
    [00:12.30]First line                     mm:ss, mm:ss.x(x)(x) or mm:ss:xx
    [00:15.00][01:20.50]A repeated line      several timestamps, one text
    [00:18.00]<00:18.20>Word <00:18.90>timed  enhanced LRC: word times dropped

Blank lines are skipped. Anything else is an error that names its line.
"""

import re
from dataclasses import dataclass

TIMESTAMP = re.compile(r"\[(\d{1,3}):(\d{1,2})(?:[.:](\d{1,3}))?\]")
TAG = re.compile(r"^\[([a-zA-Z#]+):(.*)\]$")
WORD_TIME = re.compile(r"<\d{1,3}:\d{1,2}(?:[.:]\d{1,3})?>")


class LrcError(ValueError):
    def __init__(self, line_number: int, message: str):
        self.line_number = line_number
        super().__init__(f"Line {line_number}: {message}")


@dataclass(frozen=True)
class Line:
    time: float
    text: str


def _seconds(minutes: str, seconds: str, fraction: str | None, line_number: int) -> float:
    if int(seconds) >= 60:
        raise LrcError(line_number, f"{minutes}:{seconds} has more than 59 seconds.")
    value = int(minutes) * 60 + int(seconds)
    if fraction:
        value += int(fraction) / 10 ** len(fraction)
    return value


def parse(text: str) -> list[Line]:
    """The timed lines of an LRC text, sorted by time (never negative after the offset)."""
    offset_ms, lines = 0, list[Line]()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip().lstrip("\ufeff")
        if not line:
            continue
        stamps, rest = list[float](), line
        while match := TIMESTAMP.match(rest):
            minutes, seconds, fraction = match.groups()
            stamps.append(_seconds(minutes, seconds, fraction, number))
            rest = rest[match.end() :]
        if stamps:
            text_part = WORD_TIME.sub("", rest).strip()
            lines.extend(Line(time, text_part) for time in stamps)
            continue
        tag = TAG.match(line)
        if tag is None:
            raise LrcError(number, f"expected a [mm:ss.xx] timestamp or an [tag:value], found {line[:40]!r}.")
        if tag.group(1).lower() == "offset":
            try:
                offset_ms = int(tag.group(2).strip())
            except ValueError:
                raise LrcError(
                    number, f"offset must be a whole number of milliseconds, not {tag.group(2)!r}."
                ) from None
    if not lines:
        raise LrcError(max(1, len(text.splitlines())), "no timed lines found.")
    shift = offset_ms / 1000
    return sorted(
        (Line(round(max(0.0, line.time - shift), 3), line.text) for line in lines), key=lambda line: line.time
    )


def as_json(lines: list[Line]) -> list[dict]:
    return [{"time": line.time, "text": line.text} for line in lines]
