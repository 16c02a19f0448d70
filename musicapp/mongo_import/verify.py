"""`import_mongo --verify`: the dump against the database, document by document.

Each document is converted again, exactly as the import does, and the rows it should have
become are compared with the rows there are, field by field (the columns the app changes by
itself, like a password hash upgraded at login, are left out). A difference is explained when
the import's own record accounts for it: a rejected document has no rows, a merged user lives
on in the account it was merged into. Everything else is a difference, and fails the check.
"""

from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from musicapp.models import ImportedDocument
from musicapp.mongo_import.dump import CollectionFile
from musicapp.mongo_import.engine import (
    BATCH,
    CONVERSION_ERRORS,
    DUPLICATE_ID,
    _batches,
    _source_id,
    email_merges,
    lookup_refs,
    merged_users,
    plain,
)
from musicapp.mongo_import.specs import SPECS, Reject, Spec, Users


@dataclass
class Difference:
    collection: str
    id: str
    what: str


@dataclass
class Verification:
    counts: dict[str, Counter] = field(default_factory=dict)
    differences: list[Difference] = field(default_factory=list)
    checksums: dict[str, str] = field(default_factory=dict)  # per collection, over the rows compared

    @property
    def ok(self) -> bool:
        return not self.differences


def verify(files: dict[str, CollectionFile], *, limit: int = 1000) -> Verification:
    result = Verification()
    aliases = merged_users()
    for spec_class in SPECS:
        file = files.get(spec_class.collection)
        if file is None:
            continue
        spec = Users(*email_merges(file)) if spec_class is Users else spec_class()
        counts = result.counts.setdefault(spec.collection, Counter())
        digest = hashlib.md5(usedforsecurity=False)
        for batch in _batches(file.documents(), BATCH):
            for difference in _batch(spec, [d for d in batch if isinstance(d, dict)], aliases, counts, digest):
                if len(result.differences) < limit:
                    result.differences.append(difference)
                counts["differences"] += 1
            counts["unreadable"] += sum(1 for d in batch if not isinstance(d, dict))
        result.checksums[spec.collection] = digest.hexdigest()
    return result


def _batch(
    spec: Spec, docs: list[dict[str, Any]], aliases: dict[str, str], counts: Counter, digest
) -> Iterator[Difference]:
    records = {
        r.source_id: r
        for r in ImportedDocument.objects.filter(
            collection=spec.collection, source_id__in=[_source_id(d) for d in docs]
        )
    }
    refs = lookup_refs(spec, docs, aliases)
    expected: dict[type[models.Model], list[tuple[str, dict[str, Any]]]] = defaultdict(list)
    for doc in docs:
        source_id = _source_id(doc)
        counts["documents"] += 1
        record = records.get(source_id)
        if record is None and spec.bulk:
            record = ImportedDocument(outcome=ImportedDocument.Outcome.IMPORTED)  # its row is its record
        if record is None:
            yield Difference(spec.collection, source_id, "not imported, and not in any report")
            continue
        counts[record.outcome] += 1
        if record.outcome == ImportedDocument.Outcome.REJECTED:
            continue  # explained: the report lists it with its reason
        try:
            rows = spec.convert(doc, refs)
        except (Reject, *CONVERSION_ERRORS) as exc:
            yield Difference(spec.collection, source_id, f"imported, but would now be rejected: {exc}")
            continue
        if record.outcome == ImportedDocument.Outcome.MERGED:
            if rows.target_id != record.target_id:
                yield Difference(
                    spec.collection, source_id, f"merged into {record.target_id}, expected {rows.target_id}"
                )
            continue
        if not spec.bulk and rows.digest() != record.checksum:
            if DUPLICATE_ID in record.notes:
                continue  # explained: another document with this _id was imported, as reported
            yield Difference(
                spec.collection, source_id, "the document changed since it was imported: run the import again"
            )
        for model, row in rows.rows:
            expected[model].append((source_id, row))
    for model, wanted in expected.items():
        if model not in spec.recomputed:
            yield from _compare(spec, model, wanted, digest)


def _compare(
    spec: Spec, model: type[models.Model], wanted: list[tuple[str, dict[str, Any]]], digest
) -> Iterator[Difference]:
    columns = [c for c in wanted[0][1] if c not in spec.not_verified]
    if model in spec.added:
        # Likes only ever get added: each imported one must be there (the user may have more).
        natural = [c for c in columns if c.endswith("_id")]
        have = set(
            model._default_manager.filter(user_id__in={row["user_id"] for _, row in wanted}).values_list(*natural)
        )
        for source_id, row in wanted:
            key = tuple(row[c] for c in natural)
            digest.update(repr(key).encode())
            if key not in have:
                yield Difference(
                    spec.collection,
                    source_id,
                    f"{model._meta.verbose_name} {dict(zip(natural, key, strict=True))} is missing",
                )
        return
    by_id = {row["id"]: (source_id, row) for source_id, row in wanted}
    actual = {row["id"]: row for row in model._default_manager.filter(pk__in=list(by_id)).values(*columns)}
    if model in spec.replaced:
        # The document owns all of these rows: there must be no others either.
        parent = spec.replaced[model]
        parents = {row[parent]: source_id for source_id, row in wanted}
        for extra in (
            model._default_manager.filter(**{f"{parent}__in": list(parents)})
            .exclude(pk__in=list(by_id))
            .values("id", parent)
        ):
            yield Difference(
                spec.collection, parents[extra[parent]], f"{model._meta.verbose_name} {extra['id']} should not be there"
            )
    for object_id, (source_id, row) in by_id.items():
        found = actual.get(object_id)
        digest.update(repr([plain(row[c]) for c in columns]).encode())
        if found is None:
            yield Difference(spec.collection, source_id, f"{model._meta.verbose_name} {object_id} is missing")
            continue
        for column in columns:
            if plain(row[column]) != plain(found[column]):
                where = f"{model._meta.db_table}.{column} of {object_id}"
                yield Difference(
                    spec.collection,
                    source_id,
                    f"{where} is {_short(found[column])}, the dump says {_short(row[column])}",
                )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."
