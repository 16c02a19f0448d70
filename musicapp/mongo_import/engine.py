"""The import: collections in dependency order, documents in batches, each batch one
transaction that writes its rows and remembers its documents (ImportedDocument) together.

So a run killed half-way leaves whole batches behind, and the next run skips what they hold
(same digest) and finishes the rest. Rows go through COPY into a temporary table, then one
UPDATE for rows that exist and one INSERT for the others; a row refused by another unique rule
(a second settings document for one user, an active session code already taken) is noticed
there, and its document is reported as a duplicate or, for sessions, imported as ended.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from musicapp.models import ImportedDocument, ImportRun
from musicapp.mongo_import import values
from musicapp.mongo_import.dump import CollectionFile, Unreadable
from musicapp.mongo_import.specs import KIND_MODELS, SPECS, Refs, Reject, Rows, Sessions, Songs, Spec, Users
from musicapp.platform import scoped_cache

BATCH = 10_000
# Columns a newer dump does not simply overwrite: a password changed (or upgraded to Argon2id)
# in the new app stays; an address verified in either stays verified.
UPDATE_RULES = {
    ("accounts_user", "password"): "CASE WHEN t.password LIKE 'bcrypt$%' OR t.password LIKE '!%' "
    "THEN s.password ELSE t.password END",
    ("accounts_user", "is_email_verified"): "t.is_email_verified OR s.is_email_verified",
}
# What a converter may raise on a value of an unexpected shape: the document is rejected, named.
CONVERSION_ERRORS = (values.Invalid, ValueError, TypeError, OverflowError, AttributeError, KeyError)
PARALLEL_BYTES = 64 * 1024 * 1024  # a bulk collection this big is shared with a second process
REF_CACHE = 500_000  # ids of users and songs known to exist, remembered during a bulk collection
DEFER_INDEXES_BYTES = 32 * 1024 * 1024  # a bulk collection this big loads before its indexes are built
STATS = ("read", "imported", "updated", "unchanged", "merged", "rejected", "noted")
RECORDS = ImportedDocument._meta.db_table
DUPLICATE_ID = "the dump holds this _id more than once: the last one was imported"


class ImportFailed(Exception):
    pass


class DryRun(Exception):
    """Raised to roll a --dry-run back once its report is made."""


@dataclass
class Outcome:
    source_id: str
    outcome: str
    digest: str = ""
    target_id: str = ""
    notes: list[str] = field(default_factory=list)


class Importer:
    run: ImportRun  # made by execute()
    fresh = False  # the collection being imported is a bulk one loading into an empty table

    def __init__(
        self,
        files: dict[str, CollectionFile],
        *,
        dump: str,
        dry_run: bool = False,
        batch_size: int = BATCH,
        progress: Callable[[str, int], Any] | None = None,
    ):
        self.files, self.dump, self.dry_run, self.batch_size = files, dump, dry_run, batch_size
        self.progress = progress  # progress(collection, total_bytes) -> a tqdm-like bar, or None
        self.stats: dict[str, Counter] = {}
        self.seconds: dict[str, float] = {}
        self.user_aliases: dict[str, str] = {}

    # --- the run ---------------------------------------------------------------------------

    def execute(
        self,
        after_batch: Callable[[str, int], None] | None = None,
        on_finish: Callable[[Importer], None] | None = None,
    ) -> ImportRun:
        """Import every known collection; in a dry run, roll everything back at the end."""
        self.after_batch = after_batch
        try:
            with transaction.atomic() if self.dry_run else contextlib.nullcontext():
                self.run = ImportRun.objects.create(dump=self.dump, dry_run=self.dry_run)
                self._temp_tables()
                self._session_settings()
                for spec_class in SPECS:
                    if spec_class.bulk:
                        self._restore_indexes(spec_class.model)  # after a run killed while loading
                for spec_class in SPECS:
                    file = self.files.get(spec_class.collection)
                    if file is not None:
                        self._collection(self._spec(spec_class, file), file)
                self.run.finished_at = timezone.now()
                self.run.stats = {
                    name: dict(counts) | {"seconds": round(self.seconds[name], 2)}
                    for name, counts in self.stats.items()
                }
                self.run.save()
                if on_finish is not None:
                    on_finish(self)  # before a dry run rolls back: the report reads the records
                if self.dry_run:
                    raise DryRun()
        except DryRun:
            pass
        finally:
            with connection.cursor() as cursor:
                cursor.execute("RESET synchronous_commit; RESET session_replication_role; RESET statement_timeout")
        return self.run

    def _session_settings(self) -> None:
        """For this session only: a batch lost in a crash is redone by the next run, so commits
        need not wait for the disk; and every reference is checked by the import itself before
        it writes (lookup_refs), so when the role may (a superuser), PostgreSQL's foreign-key
        triggers are skipped as pg_restore skips them: the plays go in twice as fast."""
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit TO off")
            cursor.execute("SET statement_timeout = 0")  # building the plays' indexes takes a while
            cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            row = cursor.fetchone()
            if row and row[0]:
                cursor.execute("SET session_replication_role = replica")

    def unknown_collections(self) -> list[str]:
        known = {spec.collection for spec in SPECS}
        return sorted(name for name in self.files if name not in known)

    def _spec(self, spec_class: type[Spec], file: CollectionFile) -> Spec:
        if spec_class is Users:
            merged_into, verified = self._email_merges(file)
            return Users(merged_into, verified)
        return spec_class()

    def _collection(self, spec: Spec, file: CollectionFile) -> None:
        counts = self.stats.setdefault(spec.collection, Counter({name: 0 for name in STATS}))
        started = time.monotonic()
        bar = self.progress(spec.collection, file.size) if self.progress else None
        self.user_aliases.update(merged_users())
        self.fresh = spec.bulk and self._is_empty(spec)
        self.ref_cache: dict[str, set[str]] = {}
        deferred = self._drop_indexes(spec.model) if self.fresh and file.size > DEFER_INDEXES_BYTES else []
        helper, end = self._helper(spec, file) if self.fresh and spec.FAST_COLUMNS else (None, None)
        self._documents(spec, file, counts, bar, end=end)
        if helper is not None:
            output, _ = helper.communicate()
            if helper.returncode != 0:
                raise ImportFailed(f"the process importing the second half of {spec.collection} failed: run again")
            counts.update(json.loads(output))
            if bar:
                bar.update(file.size - bar.n)
        if deferred:
            self._restore_indexes(spec.model)
        if bar:
            bar.close()
        self.seconds[spec.collection] = time.monotonic() - started

    def _helper(self, spec: Spec, file: CollectionFile) -> tuple[subprocess.Popen | None, int | None]:
        """A big bulk collection loading into an empty table is shared with a second process
        (manage.py import_mongo --part): decoding BSON and building rows is the work, and this
        machine has another core. It takes the second half of the file; returns it and where
        this process stops."""
        if self.dry_run or not file.splittable or file.size < PARALLEL_BYTES or (os.cpu_count() or 1) < 2:
            return None, None
        middle = file.middle()
        command = [
            sys.executable, str(Path(settings.BASE_DIR) / "manage.py"), "import_mongo", self.dump,
            "--part", f"{spec.collection}:{middle}:{file.size}", "--run-id", str(self.run.pk),
            "--batch-size", str(self.batch_size),
        ]  # fmt: skip
        env = {**os.environ, "DATABASE_URL": _database_url(), "MUSICAPP_IMPORT_PARENT": str(os.getpid())}
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE), middle

    def execute_part(self, collection: str, start: int, end: int, run_id: int) -> Counter:
        """The helper's side: documents start..end of a bulk collection, into a table the main
        process found empty."""
        _die_with_parent()
        spec = next(spec_class() for spec_class in SPECS if spec_class.collection == collection)
        self.run = ImportRun.objects.get(pk=run_id)
        self._session_settings()
        self._temp_tables()
        self.user_aliases.update(merged_users())
        self.fresh, self.ref_cache, self.after_batch = True, {}, None
        counts: Counter = Counter()
        self._documents(spec, self.files[collection], counts, None, start=start, end=end)
        return counts

    def _documents(self, spec: Spec, file: CollectionFile, counts: Counter, bar, start: int = 0, end=None) -> None:
        documents = file.documents(bar.update if bar else None, start=start, end=end)
        for number, batch in enumerate(_batches(documents, self.batch_size)):
            with transaction.atomic():
                if self.fresh and spec.FAST_COLUMNS:
                    counts.update(self._fast_batch(spec, batch))
                else:
                    counts.update(_tally(self._batch(spec, batch)))
                counts["read"] += len(batch)
            if self.after_batch:
                self.after_batch(spec.collection, number)

    # --- a first load of a bulk collection --------------------------------------------------

    def _is_empty(self, spec: Spec) -> bool:
        """Nothing of this collection was imported yet and its table is empty: no batch needs
        to look for rows or records of an earlier run."""
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT EXISTS (SELECT FROM {spec.model._meta.db_table})")
            if cursor.fetchone()[0]:
                return False
            cursor.execute(f"SELECT EXISTS (SELECT FROM {RECORDS} WHERE collection = %s)", [spec.collection])
            return not cursor.fetchone()[0]

    def _drop_indexes(self, model: type[models.Model]) -> list[models.Index]:
        """Before millions of rows go into an empty table, its secondary indexes go (pg_restore
        builds them after the data too: one sorted build instead of a million insertions).
        They come back at the end of the collection, or at the start of the next run if this
        one is killed (_restore_indexes)."""
        if self.dry_run:
            return []
        with connection.cursor() as cursor:
            for index in model._meta.indexes:
                cursor.execute(f"DROP INDEX IF EXISTS {connection.ops.quote_name(index.name)}")
        return list(model._meta.indexes)

    def _restore_indexes(self, model: type[models.Model]) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [model._meta.db_table])
            present = {row[0] for row in cursor.fetchall()}
        missing = [index for index in model._meta.indexes if index.name not in present]
        if missing:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '256MB'")
            with connection.schema_editor(atomic=False) as editor:
                for index in missing:
                    editor.add_index(model, index)
            with connection.cursor() as cursor:
                cursor.execute("RESET maintenance_work_mem")

    # --- one batch -------------------------------------------------------------------------

    def _fast_batch(self, spec: Spec, batch: list[dict[str, Any] | Unreadable]) -> Counter:
        """A batch of a bulk collection loading into an empty table: documents of the usual
        shape become rows in one pass and go in with one COPY; the others (and any whose
        references are missing) take the careful way, _batch."""
        fast: list[tuple] = []
        careful: list[dict[str, Any] | Unreadable] = []
        for item in batch:
            row = spec.fast_row(item, self.user_aliases) if isinstance(item, dict) else None
            if row is None:
                careful.append(item)
            else:
                fast.append(row)
        if len({row[0] for row in fast}) != len(fast):
            return _tally(self._batch(spec, batch))  # an _id twice in the batch: the careful way knows
        users = self._existing("users", {row[1] for row in fast})
        songs = self._existing("songs", {row[2] for row in fast})
        good = [row for row in fast if row[1] in users and row[2] in songs]
        if len(good) < len(fast):
            # Their references are missing: the careful way says which, for the report.
            rejected = {row[0] for row in fast} - {row[0] for row in good}
            careful += [doc for doc in batch if isinstance(doc, dict) and _source_id(doc) in rejected]
        try:
            with transaction.atomic():
                # Binary: a third of text's cost here.
                self._copy(spec.model, spec.FAST_COLUMNS, good, types=spec.FAST_TYPES)
        except IntegrityError:
            return _tally(self._batch(spec, batch))  # an _id an earlier batch had: the careful way upserts
        counts = _tally(self._batch(spec, careful)) if careful else Counter()
        counts["imported"] += len(good)
        return counts

    def _existing(self, kind: str, ids: set[str]) -> set[str]:
        """Which of these users or songs exist. The ones found are remembered for the rest of
        the collection (plays name the same ones again and again), up to REF_CACHE ids."""
        cache = self.ref_cache.setdefault(kind, set())
        unknown = ids - cache
        if unknown:
            if len(cache) + len(unknown) > REF_CACHE:
                cache.clear()
            cache |= _existing(KIND_MODELS[kind], unknown)
        return ids & cache

    def _batch(self, spec: Spec, batch: list[dict[str, Any] | Unreadable]) -> list[Outcome]:
        documents = [doc for doc in batch if isinstance(doc, dict)]
        source_ids = [_source_id(doc) for doc in documents]
        known = {} if self.fresh else self._known(source_ids, spec.collection)
        refs = self._refs(spec, documents)
        # A bulk collection (plays) keeps no record per imported document: its rows are their
        # own record, compared as they are.
        present = self._present(spec.model, source_ids) if spec.bulk and not self.fresh else {}
        outcomes: list[Outcome] = []
        pending: dict[str, tuple[Outcome, Rows]] = {}  # by _id: a repeated _id keeps its last document
        seen_here: dict[str, Outcome] = {}
        for item in batch:
            if isinstance(item, Unreadable):
                outcomes.append(Outcome(f"@{item.position}", "rejected", notes=[item.reason]))
                continue
            source_id = _source_id(item)
            try:
                rows = spec.convert(item, refs)
            except Reject as exc:
                outcomes.append(Outcome(source_id, "rejected", notes=[str(exc)]))
                continue
            except CONVERSION_ERRORS as exc:  # a value of a shape nothing expected
                outcomes.append(Outcome(source_id, "rejected", notes=[f"cannot be read: {exc}"]))
                continue
            digest = "" if spec.bulk else rows.digest()
            outcome = Outcome(source_id, "merged" if rows.merged else "imported", digest, rows.target_id, rows.notes)
            previous = known.get(source_id)
            if source_id in seen_here or (previous and previous[1] == self.run.pk):
                outcome.notes = [*outcome.notes, DUPLICATE_ID]
            if (earlier := seen_here.get(source_id)) is not None:
                earlier.outcome, earlier.notes = "rejected", ["a later document of the dump has the same _id"]
                pending.pop(source_id, None)
            seen_here[source_id] = outcome
            outcomes.append(outcome)
            if spec.bulk and source_id in present:
                if present[source_id] == _comparable(rows.rows[0][1]):
                    outcome.outcome = "unchanged"
                    continue
            elif previous and previous[2] != "rejected" and previous[0] == outcome.digest:
                outcome.outcome = "unchanged"
                continue
            if rows.rows:
                pending[source_id] = (outcome, rows)
        if spec.bulk:
            self._write_bulk(spec, list(pending.values()), present)
        else:
            self._write(spec, list(pending.values()), known)
        for outcome in outcomes:
            if outcome.outcome == "imported" and (
                outcome.source_id in present
                or (outcome.source_id in known and known[outcome.source_id][2] != "rejected")
            ):
                outcome.outcome = "updated"
        self._remember(spec, outcomes, known)
        return outcomes

    def _present(self, model: type[models.Model], ids: list[str]) -> dict[str, tuple]:
        """The rows of these ids that exist, as comparable tuples (all columns but updated_at)."""
        columns = [f.column for f in model._meta.concrete_fields]
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {', '.join(map(connection.ops.quote_name, columns))} FROM {model._meta.db_table} "
                "WHERE id = ANY(%s)",
                [ids],
            )
            return {row[0]: _comparable(dict(zip(columns, row, strict=True))) for row in cursor.fetchall()}

    def _write_bulk(self, spec: Spec, to_write: list[tuple[Outcome, Rows]], present: dict[str, tuple]) -> None:
        """New rows straight into the table with COPY (PostgreSQL works on them while the next
        ones are converted); changed ones through the usual UPDATE."""
        new = [rows.rows[0][1] for _, rows in to_write if rows.target_id not in present]
        changed = [rows.rows[0][1] for _, rows in to_write if rows.target_id in present]
        columns = list(new[0]) if new else []
        if new and self.fresh:
            try:
                with transaction.atomic():
                    self._copy(spec.model, columns, [[row[c] for c in columns] for row in new])
                return
            except IntegrityError:
                # An _id an earlier batch of this dump had already: upsert instead.
                changed, new = changed + new, []
        if new:
            self._copy(spec.model, columns, [[row[c] for c in columns] for row in new])
        if changed:
            self._upsert(spec.model, changed, spec.keep_on_update)

    def _copy(self, model: type[models.Model], columns, rows, types: tuple[str, ...] | None = None) -> None:
        """COPY rows (sequences in `columns` order) straight into the model's table; in the
        binary format when the columns' `types` are given."""
        names = ", ".join(map(connection.ops.quote_name, columns))
        binary = " (FORMAT BINARY)" if types else ""
        sql = f"COPY {model._meta.db_table} ({names}) FROM STDIN{binary}"
        with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
            if types:
                copy.set_types(list(types))
            for row in rows:
                copy.write_row(row)

    def _known(self, source_ids: list[str], collection: str) -> dict[str, tuple[str, int | None, str]]:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT source_id, checksum, run_id, outcome FROM {RECORDS} "
                "WHERE collection = %s AND source_id = ANY(%s)",
                [collection, source_ids],
            )
            return {
                source_id: (checksum, run_id, outcome) for source_id, checksum, run_id, outcome in cursor.fetchall()
            }

    def _refs(self, spec: Spec, documents: list[dict[str, Any]]) -> Refs:
        return lookup_refs(spec, documents, self.user_aliases)

    # --- writing ---------------------------------------------------------------------------

    def _write(self, spec: Spec, to_write: list[tuple[Outcome, Rows]], known: dict) -> None:
        if not to_write:
            return
        primary = [(outcome, row) for outcome, rows in to_write for model, row in rows.rows if model is spec.model]
        if primary and spec.model not in spec.added and spec.model not in spec.replaced:
            some_exist = any(outcome.source_id in known for outcome, _ in primary)
            refused = self._upsert(spec.model, [row for _, row in primary], spec.keep_on_update, some_exist=some_exist)
            if refused and isinstance(spec, Sessions):
                refused = self._sessions_as_ended(to_write, refused)
            for outcome, rows in to_write:
                if rows.target_id in refused:
                    outcome.outcome = "rejected"
                    outcome.notes = [*outcome.notes, f"duplicate: {_unique_rules(spec.model)} is taken by another row"]
        if spec.replaced:
            # Two documents for one parent (a user's recommendations, after an email merge):
            # the later one's rows replace the earlier one's.
            last = {rows.target_id: outcome for outcome, rows in to_write if outcome.outcome != "rejected"}
            for outcome, rows in to_write:
                if outcome.outcome != "rejected" and last[rows.target_id] is not outcome:
                    outcome.outcome = "rejected"
                    outcome.notes = [*outcome.notes, f"duplicate: a later document for {rows.target_id} replaces it"]
        landed = [rows for outcome, rows in to_write if outcome.outcome != "rejected"]
        if isinstance(spec, Users):
            # Rows written in SQL send no signal: the cached copies of these users go by hand.
            for rows in landed:
                scoped_cache.user_changed_on_commit(rows.target_id, "auth", "me")
        children: dict[type[models.Model], list[dict[str, Any]]] = defaultdict(list)
        for rows in landed:
            for model, row in rows.rows:
                if model is not spec.model or model in spec.added or model in spec.replaced:
                    children[model].append(row)
        for model, parent_column in spec.replaced.items():
            parents = list({rows.target_id for rows in landed})
            with connection.cursor() as cursor:
                cursor.execute(f"DELETE FROM {model._meta.db_table} WHERE {parent_column} = ANY(%s)", [parents])
        for model, rows_of_model in children.items():
            # Replaced rows were just deleted; added ones may be there already (and those
            # tables have no deferrable rule, which ON CONFLICT refuses).
            self._insert(model, rows_of_model, skip_existing=model not in spec.replaced)

    def _sessions_as_ended(self, to_write: list[tuple[Outcome, Rows]], refused: set[str]) -> set[str]:
        """An active session whose code another active session holds is imported as ended."""
        retry: list[dict[str, Any]] = []
        for outcome, rows in to_write:
            if rows.target_id in refused:
                row = next(row for model, row in rows.rows if model is Sessions.model)
                if row["is_active"]:
                    row.update(is_active=False, is_playing=False, ended_at=row["updated_at"], end_reason="expired")
                    outcome.notes = [
                        *outcome.notes,
                        f"code {row['code']} is held by another active session: imported as ended",
                    ]
                    retry.append(row)
        still_refused = self._upsert(Sessions.model, retry, ())
        return refused - {row["id"] for row in retry} | still_refused

    def _upsert(
        self, model: type[models.Model], rows: list[dict[str, Any]], keep: tuple[str, ...], *, some_exist: bool = True
    ) -> set[str]:
        """Write rows by id: update those that exist (when some may: an earlier run wrote them),
        insert the others; return the ids that another unique rule refused."""
        if not rows:
            return set()
        table, columns = model._meta.db_table, list(rows[0])
        stage = self._stage(model, columns, rows)
        q = connection.ops.quote_name
        settable = ", ".join(
            f"{q(c)} = {UPDATE_RULES.get((table, c), 's.' + q(c))}" for c in columns if c != "id" and c not in keep
        )
        names = ", ".join(map(q, columns))
        written: set[str] = set()
        refused: set[str] = set()
        update = f"UPDATE {table} t SET {settable} FROM {stage} s WHERE t.id = s.id"
        with connection.cursor() as cursor:
            if some_exist:
                try:
                    with transaction.atomic():
                        cursor.execute(f"{update} RETURNING t.id")
                        written = {row[0] for row in cursor.fetchall()}
                except IntegrityError:
                    # Another unique rule refuses some row (a session made active again whose
                    # code is taken): row by row, and the ones refused are reported.
                    for row in rows:
                        try:
                            with transaction.atomic():
                                cursor.execute(f"{update} AND s.id = %s RETURNING t.id", [row["id"]])
                                written |= {found[0] for found in cursor.fetchall()}
                        except IntegrityError:
                            refused.add(row["id"])
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} ON CONFLICT DO NOTHING RETURNING id"
            )
            written |= {row[0] for row in cursor.fetchall()}
        return ({row["id"] for row in rows} - written) | refused

    def _insert(self, model: type[models.Model], rows: list[dict[str, Any]], *, skip_existing: bool) -> None:
        table, columns = model._meta.db_table, list(rows[0])
        stage = self._stage(model, columns, rows)
        names = ", ".join(map(connection.ops.quote_name, columns))
        with connection.cursor() as cursor:
            conflict = " ON CONFLICT DO NOTHING" if skip_existing else ""
            cursor.execute(f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage}{conflict}")

    def _stage(self, model: type[models.Model], columns: list[str], rows: list[dict[str, Any]]) -> str:
        """COPY rows into a temporary table shaped like the model's (without its rules)."""
        stage = f"import_stage_{model._meta.db_table}"
        json_columns = {f.column for f in model._meta.concrete_fields if isinstance(f, models.JSONField)}
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {stage} AS SELECT * FROM {model._meta.db_table} WITH NO DATA; "
                f"TRUNCATE {stage}"
            )
            with cursor.cursor.copy(
                f"COPY {stage} ({', '.join(map(connection.ops.quote_name, columns))}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(
                        [json.dumps(row[c]) if c in json_columns and row[c] is not None else row[c] for c in columns]
                    )
        return stage

    def _remember(self, spec: Spec, outcomes: list[Outcome], known: dict) -> None:
        collection = spec.collection
        changed = [o for o in outcomes if o.outcome != "unchanged"]
        with connection.cursor() as cursor:
            if spec.bulk:
                # Records only of what the report lists; a document imported whole at last
                # loses the record of its earlier troubles.
                changed = [o for o in changed if o.outcome == "rejected" or o.notes]
                listed = {id(o) for o in changed}
                cleared = [o.source_id for o in outcomes if o.source_id in known and id(o) not in listed]
                if cleared:
                    cursor.execute(
                        f"DELETE FROM {RECORDS} WHERE collection = %s AND source_id = ANY(%s)", [collection, cleared]
                    )
            else:
                with cursor.cursor.copy("COPY import_seen (collection, source_id) FROM STDIN") as copy:
                    for outcome in outcomes:
                        copy.write_row((collection, outcome.source_id))
            if not changed:
                return
            columns = "collection, source_id, checksum, outcome, target_id, notes, run_id"
            cursor.execute("TRUNCATE import_stage_records")
            with cursor.cursor.copy(f"COPY import_stage_records ({columns}) FROM STDIN") as copy:
                # One record per _id: of a repeated one, the last document (the one imported).
                for o in {o.source_id: o for o in changed}.values():
                    stored = "imported" if o.outcome in ("updated", "unchanged") else o.outcome
                    copy.write_row(
                        (collection, o.source_id, o.digest, stored, o.target_id, json.dumps(o.notes), self.run.pk)
                    )
            cursor.execute(
                f"INSERT INTO {RECORDS} ({columns}) SELECT {columns} FROM import_stage_records "
                "ON CONFLICT (collection, source_id) DO UPDATE SET checksum = EXCLUDED.checksum, "
                "outcome = EXCLUDED.outcome, target_id = EXCLUDED.target_id, notes = EXCLUDED.notes, "
                "run_id = EXCLUDED.run_id"
            )

    def _temp_tables(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "CREATE TEMP TABLE IF NOT EXISTS import_seen (collection text, source_id text); TRUNCATE import_seen; "
                f"CREATE TEMP TABLE IF NOT EXISTS import_stage_records AS SELECT * FROM {RECORDS} WITH NO DATA"
            )

    # --- users: emails that differ only by case ---------------------------------------------

    def _email_merges(self, file: CollectionFile) -> tuple[dict[str, str], set[str]]:
        merged_into, verified = email_merges(file)
        self.user_aliases.update(merged_into)
        return merged_into, verified

    # --- the report ------------------------------------------------------------------------

    def problems(self) -> Iterator[dict[str, Any]]:
        """Every document rejected, merged or imported with notes, and every document an
        earlier dump had that this one lacks (kept: the import deletes nothing). Read with a
        server-side cursor: a million rejected plays do not fill the memory."""
        names = [spec.collection for spec in SPECS if spec.collection in self.files]
        tracked = [spec.collection for spec in SPECS if spec.collection in self.files and not spec.bulk]
        with transaction.atomic(), connection.chunked_cursor() as cursor:
            cursor.execute(
                f"SELECT collection, source_id, outcome, target_id, notes FROM {RECORDS} r "
                "WHERE collection = ANY(%s) AND (outcome <> 'imported' OR notes <> '[]'::jsonb) "
                "ORDER BY collection, source_id",
                [names],
            )
            for collection, source_id, outcome, target_id, notes in cursor:
                yield {
                    "collection": collection,
                    "id": source_id,
                    "outcome": outcome,
                    "target": target_id,
                    "reasons": _json(notes),
                }
            cursor.execute(
                f"SELECT collection, source_id FROM {RECORDS} r WHERE collection = ANY(%s) AND NOT EXISTS "
                "(SELECT 1 FROM import_seen s WHERE s.collection = r.collection AND s.source_id = r.source_id) "
                "ORDER BY collection, source_id",
                [tracked],
            )
            for collection, source_id in cursor:
                yield {
                    "collection": collection,
                    "id": source_id,
                    "outcome": "absent",
                    "target": "",
                    "reasons": ["in an earlier dump, not in this one: its rows are kept"],
                }


def email_merges(file: CollectionFile) -> tuple[dict[str, str], set[str]]:
    """Which user documents are merged into which (the oldest of each email, whatever its
    case, keeps the account), found in PostgreSQL so that memory does not grow with the
    number of users."""
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE IF NOT EXISTS import_users (id text, email text, created timestamptz, verified bool);"
            "TRUNCATE import_users"
        )
        with cursor.cursor.copy("COPY import_users FROM STDIN") as copy:
            for doc in file.documents():
                if not isinstance(doc, dict) or (object_id := values.object_id(doc.get("_id"))) is None:
                    continue
                try:
                    address = values.email(doc.get("email"))
                except values.Invalid:
                    continue  # rejected by Users.convert, with the reason
                try:  # the same fallbacks as Users.convert
                    created = values.moment(doc.get("createdAt")) or values.id_time(object_id)
                except values.Invalid:
                    created = values.id_time(object_id)
                try:
                    is_verified = values.flag(doc.get("isEmailVerified"), False)
                except values.Invalid:
                    is_verified = False
                copy.write_row((object_id, address, created, is_verified))
        cursor.execute(
            """
            WITH everyone AS (
                SELECT DISTINCT ON (id) id, email, created, verified FROM import_users
                UNION ALL
                SELECT u.id, u.email, u.created_at, u.is_email_verified FROM accounts_user u
                 WHERE u.email IN (SELECT email FROM import_users)
                   AND u.id NOT IN (SELECT id FROM import_users)
            ), ranked AS (
                SELECT id, first_value(id) OVER (PARTITION BY email ORDER BY created, id) AS winner,
                       bool_or(verified) OVER (PARTITION BY email) AS verified,
                       count(*) OVER (PARTITION BY email) AS accounts
                  FROM everyone
            )
            SELECT id, winner, verified FROM ranked WHERE accounts > 1
            """
        )
        merged_into: dict[str, str] = {}
        verified: set[str] = set()
        for object_id, winner, any_verified in cursor.fetchall():
            if object_id != winner:
                merged_into[object_id] = winner
            elif any_verified:
                verified.add(winner)
    return merged_into, verified


def merged_users() -> dict[str, str]:
    """The users earlier runs merged into another account: their old id -> the account's."""
    merged = ImportedDocument.objects.filter(collection="users", outcome=ImportedDocument.Outcome.MERGED)
    return dict(merged.values_list("source_id", "target_id"))


def lookup_refs(spec: Spec, documents: list[dict[str, Any]], user_aliases: dict[str, str]) -> Refs:
    """Which of the ids a batch points at exist, in one query per kind."""
    wanted: dict[str, set[str]] = defaultdict(set)
    for doc in documents:
        for kind, raw in spec.referenced(doc):
            object_id = values.object_id(raw)
            if object_id:
                wanted[kind].add(user_aliases.get(object_id, object_id) if kind == "users" else object_id)
    if isinstance(spec, Songs):
        for doc in documents:
            if (object_id := values.object_id(doc.get("album"))) is not None:
                wanted["albums"].add(object_id)
    existing: dict[str, set[str]] = {kind: set() for kind in KIND_MODELS}
    for kind, ids in wanted.items():
        existing[kind] = _existing(KIND_MODELS[kind], ids)
    refs = Refs(existing, user_aliases)
    if isinstance(spec, Songs):
        names = sorted({name for doc in documents for name in Songs.album_names(doc)})
        refs.albums_by_name = albums_by_name(names)
    return refs


def _existing(model: type[models.Model], ids: set[str]) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM {model._meta.db_table} WHERE id = ANY(%s)", [list(ids)])
        return {row[0] for row in cursor.fetchall()}


def albums_by_name(lower_names: list[str]) -> dict[str, list[tuple[str, str]]]:
    """The imported albums with these names (lower-cased), with their descriptions."""
    found: dict[str, list[tuple[str, str]]] = defaultdict(list)
    if not lower_names:
        return found
    with connection.cursor() as cursor:
        cursor.execute(
            f'SELECT a.id, lower(a.name), a."desc" FROM library_album a JOIN {RECORDS} r '
            "ON r.collection = 'albums' AND r.source_id = a.id WHERE lower(a.name) = ANY(%s) ORDER BY a.id",
            [lower_names],
        )
        for object_id, name, desc in cursor.fetchall():
            found[name].append((object_id, desc))
    return found


def _unique_rules(model: type[models.Model]) -> str:
    rules = [", ".join(c.fields) or c.name for c in model._meta.constraints if isinstance(c, models.UniqueConstraint)]
    rules += [f.name for f in model._meta.concrete_fields if f.unique and not f.primary_key]
    return " or ".join(f"({rule})" for rule in rules) or "its key"


def _database_url() -> str:
    """The database this process uses, as a URL for the helper process."""
    db = connection.settings_dict
    host = quote(db["HOST"], safe="") if db["HOST"].startswith("/") else db["HOST"]
    password = f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else ""
    url = f"postgres://{quote(db['USER'], safe='')}{password}@{host}:{db['PORT'] or 5432}/{quote(db['NAME'], safe='')}"
    tls = {k: v for k, v in db.get("OPTIONS", {}).items() if k.startswith("ssl") and isinstance(v, str)}
    return url + ("?" + "&".join(f"{k}={quote(v, safe='')}" for k, v in tls.items()) if tls else "")


def _die_with_parent() -> None:
    """The helper stops when the import that started it is killed (Linux), so a rerun never
    races it."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    parent = os.environ.get("MUSICAPP_IMPORT_PARENT")
    if parent and os.getppid() != int(parent):  # it died before prctl took effect
        os._exit(1)


def _tally(outcomes: list[Outcome]) -> Counter:
    counts = Counter(outcome.outcome for outcome in outcomes)
    counts["noted"] = sum(1 for o in outcomes if o.notes and o.outcome in ("imported", "updated"))
    return counts


def plain(value: Any) -> Any:
    """A value as compared between the dump and the database (times to the microsecond as
    numbers, floats rounded: what a round trip through PostgreSQL keeps)."""
    if isinstance(value, datetime):
        return round(value.timestamp(), 6)
    if isinstance(value, float):
        return round(value, 6)
    return value


def _comparable(row: dict[str, Any]) -> tuple:
    return tuple(plain(value) for key, value in sorted(row.items()) if key != "updated_at")


def _source_id(doc: dict[str, Any]) -> str:
    raw = doc.get("_id")
    return values.object_id(raw) or str(raw)[:64]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def _batches(items: Iterator[Any], size: int) -> Iterator[list[Any]]:
    """Lists of documents weighing at most `size` rows: a document counts once plus once per
    id in its lists (a playlist of 5,000 songs is 5,001 rows), so memory follows the batch size
    whatever the documents hold."""
    batch: list[Any] = []
    weight = 0
    for item in items:
        batch.append(item)
        weight += 1
        if isinstance(item, dict):
            weight += sum(len(value) for value in item.values() if isinstance(value, list))
        if weight >= size:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch
