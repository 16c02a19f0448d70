"""Reading a dump one document at a time: a `mongodump` folder (`<collection>.bson`, or
`.bson.gz` from `--gzip`) or `mongoexport` Extended JSON (`<collection>.json`, one document
per line). Nothing reads a collection whole: memory follows the batch, not the dump."""

from __future__ import annotations

import contextlib
import functools
import gzip
import io
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import bson
from bson import json_util
from bson.codec_options import CodecOptions
from bson.errors import InvalidBSON, InvalidDocument
from bson.json_util import JSONOptions

# Dates come back as aware UTC datetimes; documents as plain dicts.
CODEC: CodecOptions = CodecOptions(tz_aware=True)
JSON = JSONOptions(tz_aware=True)
MAX_DOCUMENT = 64 * 1024 * 1024  # a BSON document's size limit is 16 MiB; past this the file is not BSON
NOT_COLLECTIONS = {"prelude.json", "oplog.bson"}  # what newer mongodumps also write beside the collections
SUFFIXES = (".bson", ".bson.gz", ".json", ".jsonl", ".json.gz")


class DumpError(Exception):
    """The dump cannot be read at all (as opposed to one bad document, which is reported)."""


@dataclass(frozen=True)
class Unreadable:
    """A line or document that does not parse: reported with its position, never skipped silently."""

    position: str
    reason: str


@dataclass(frozen=True)
class CollectionFile:
    name: str
    path: Path

    @property
    def size(self) -> int:
        return self.path.stat().st_size

    @property
    def splittable(self) -> bool:
        """A plain BSON file can be read from a document boundary on (by two processes)."""
        return self.path.name.endswith(".bson")

    def middle(self) -> int:
        """The offset of the first document that starts past the middle of a BSON file (only
        the length headers are read, hopping from one to the next)."""
        half, position = self.size // 2, 0
        with self.path.open("rb") as raw:
            while position < half:
                raw.seek(position)
                header = raw.read(4)
                if len(header) < 4:
                    break
                position += max(5, int.from_bytes(header, "little"))
        return min(position, self.size)

    def documents(self, progress=None, start: int = 0, end: int | None = None) -> Iterator[dict[str, Any] | Unreadable]:
        """Each document in file order (of a BSON file, those from byte `start` to `end`);
        `progress(n)` is told how many bytes were consumed."""
        gzipped = self.path.name.endswith(".gz")
        with self.path.open("rb") as raw, gzip.open(raw) if gzipped else contextlib.nullcontext(raw) as stream:
            reader = _bson if ".bson" in self.path.name else _json_lines
            if start or end is not None:
                raw.seek(start)
                stream = _Slice(raw, (end if end is not None else self.size) - start)  # type: ignore[assignment]
                reader = functools.partial(_bson, base=start)  # positions in the report stay the file's
            last = start
            for document in reader(stream):  # type: ignore[arg-type]
                if progress is not None:
                    now = raw.tell()
                    progress(now - last)
                    last = now
                yield document


class _Slice:
    """A file read up to a number of bytes from where it stands."""

    def __init__(self, raw: IO[bytes], length: int):
        self.raw, self.left = raw, length

    def read(self, size: int = -1) -> bytes:
        size = self.left if size < 0 else min(size, self.left)
        data = self.raw.read(size)
        self.left -= len(data)
        return data


def _bson(stream: IO[bytes], chunk_size: int = 1 << 16, base: int = 0) -> Iterator[dict[str, Any] | Unreadable]:
    """Documents read a chunk at a time: the whole ones of each chunk are decoded at once (in
    C), and if that fails, one by one, so that only the bad one is reported."""
    offset, buffer = base, b""
    while True:
        data = stream.read(chunk_size)
        buffer += data
        ends, position = [], 0
        while len(buffer) - position >= 4:
            size = int.from_bytes(buffer[position : position + 4], "little")
            if size < 5 or size > MAX_DOCUMENT:
                yield from _decode_each(buffer[:position], offset)
                yield Unreadable(
                    f"byte {offset + position}", f"a document cannot be {size} bytes long: the rest is unreadable"
                )
                return
            if len(buffer) - position < size:
                break
            position += size
            ends.append(position)
        if ends:
            try:
                yield from bson.decode_all(buffer[:position], CODEC)
            except (InvalidBSON, InvalidDocument, ValueError, OverflowError):
                yield from _decode_each(buffer[:position], offset, ends)
            offset, buffer = offset + position, buffer[position:]
        if not data:
            if buffer:
                yield Unreadable(f"byte {offset}", "the file ends inside a document (truncated dump)")
            return


def _decode_each(data: bytes, offset: int, ends: list[int] | None = None) -> Iterator[dict[str, Any] | Unreadable]:
    start = 0
    for end in ends if ends is not None else _ends(data):
        try:
            yield bson.decode(data[start:end], CODEC)
        except (InvalidBSON, InvalidDocument, ValueError, OverflowError) as exc:
            yield Unreadable(f"byte {offset + start}", f"not a BSON document: {exc}")
        start = end


def _ends(data: bytes) -> list[int]:
    ends, position = [], 0
    while position < len(data):
        position += int.from_bytes(data[position : position + 4], "little")
        ends.append(position)
    return ends


def _json_lines(stream: IO[bytes]) -> Iterator[dict[str, Any] | Unreadable]:
    for number, line in enumerate(io.TextIOWrapper(stream, encoding="utf-8", errors="replace"), start=1):
        line = line.strip()
        if not line:
            continue
        if number == 1 and line.startswith("["):
            raise DumpError("this is a --jsonArray export; export again without --jsonArray (one document per line)")
        try:
            document = json_util.loads(line, json_options=JSON)
        except (ValueError, TypeError, InvalidBSON, OverflowError) as exc:  # JSONDecodeError is a ValueError
            yield Unreadable(f"line {number}", f"not Extended JSON: {exc}")
            continue
        if not isinstance(document, dict):
            yield Unreadable(f"line {number}", "not a JSON object")
            continue
        yield document


def find_collections(folder: Path) -> dict[str, CollectionFile]:
    """The collection files of a dump folder, by collection name. A mongodump root holding one
    database folder is looked into."""
    if not folder.is_dir():
        raise DumpError(f"{folder} is not a folder")
    found = _files_in(folder)
    if not found:
        databases = [child for child in folder.iterdir() if child.is_dir() and _files_in(child)]
        if len(databases) > 1:
            names = ", ".join(sorted(d.name for d in databases))
            raise DumpError(f"{folder} holds several databases ({names}): name one of them")
        if databases:
            found = _files_in(databases[0])
    if not found:
        raise DumpError(f"no .bson or .json collection files in {folder}")
    return found


def _files_in(folder: Path) -> dict[str, CollectionFile]:
    found: dict[str, CollectionFile] = {}
    for path in sorted(folder.iterdir()):
        if not path.is_file() or path.name.endswith(".metadata.json") or path.name in NOT_COLLECTIONS:
            continue
        for suffix in SUFFIXES:
            if path.name.endswith(suffix):
                name = path.name[: -len(suffix)]
                if name in found:
                    raise DumpError(f"{name} appears twice in {folder} ({found[name].path.name}, {path.name})")
                found[name] = CollectionFile(name, path)
    return found
