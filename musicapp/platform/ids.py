"""Public ids are MongoDB ObjectIds in their 24-hex form (API.md, MONGO.md).

Decision: every model's primary key *is* that id (a char(24) column in the "C" collation),
so records imported from MongoDB keep theirs, foreign keys need no translation, and the
API never maps between an internal and a public id. New ids come from bson's ObjectId,
whose leading timestamp keeps them roughly in creation order.
"""

import re
from typing import Any

from bson import ObjectId
from django.core.validators import RegexValidator
from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper

OBJECT_ID_RE = re.compile(r"^[0-9a-f]{24}$")


def new_object_id() -> str:
    return str(ObjectId())


def is_object_id(value: object) -> bool:
    return isinstance(value, str) and bool(OBJECT_ID_RE.match(value))


class ObjectIdField(models.CharField):
    """A 24-hex ObjectId stored as char(24) in the "C" collation (byte-wise, cheap comparisons)."""

    default_validators = [RegexValidator(OBJECT_ID_RE, "Enter a 24-character lowercase hex id.")]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 24)
        kwargs.setdefault("db_collation", "C")
        if kwargs.get("primary_key"):
            kwargs.setdefault("default", new_object_id)
            kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def db_type(self, connection: BaseDatabaseWrapper) -> str:
        # Fixed-width char(24) rather than varchar: Django then adds no second
        # varchar_pattern_ops "_like" index beside every id and foreign key (ids are matched
        # whole, and the "C" collation would serve a prefix LIKE from the plain index anyway).
        # Spelled "bpchar", PostgreSQL's own name for char: Django 5.2's bulk_create casts to
        # "<type without its (length)>[]", and a bare "char" is char(1), which truncates ids;
        # a bare "bpchar" has no length limit.
        return f"bpchar({self.max_length})"

    def deconstruct(self) -> Any:
        name, _path, args, kwargs = super().deconstruct()
        return name, "musicapp.platform.ids.ObjectIdField", args, kwargs

    def to_python(self, value: Any) -> Any:
        value = super().to_python(value)
        return value.lower() if isinstance(value, str) else value
