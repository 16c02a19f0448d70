"""Input fields that take JSON at its word: a string field wants a string, a boolean true or
false, a number a number. DRF's own fields coerce (0 becomes "0", "true" and 1 become True, "5"
becomes 5), which silently accepts what the published schema says is invalid; the SPA sends
proper JSON types, so anything else is a client bug better answered with a 400.

Use these in input serializers (`from musicapp.platform import fields`); StrictModelSerializer
maps model fields onto them.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from rest_framework import serializers

WRONG_TYPE = "Expected {expected}, not {given}."


def _json_type(value: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", str: "a string", list: "a list"}.get(
        type(value), "an object" if isinstance(value, dict) else "null" if value is None else type(value).__name__
    )


class _Strict:
    expected = "a string"
    accepts: tuple[type, ...] = (str,)

    def to_internal_value(self, data: Any) -> Any:
        if not isinstance(data, self.accepts) or (bool not in self.accepts and isinstance(data, bool)):
            raise serializers.ValidationError(WRONG_TYPE.format(expected=self.expected, given=_json_type(data)))
        return super().to_internal_value(data)  # type: ignore[misc]


NO_NULLS = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL; DRF refuses it, and the schema says so


class CharField(_Strict, serializers.CharField):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # DRF's own NUL check is replaced by a pattern (the schema shows it); subclasses state a
        # stricter pattern of their own that excludes NUL too. One message, not two.
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
        if type(self) is CharField:
            self.validators.append(RegexValidator(NO_NULLS, "Null characters are not allowed."))


class EmailField(_Strict, serializers.EmailField):
    pass


class RegexField(_Strict, serializers.RegexField):
    pass


class ChoiceField(_Strict, serializers.ChoiceField):
    pass


class BooleanField(_Strict, serializers.BooleanField):
    expected, accepts = "true or false", (bool,)


class IntegerField(_Strict, serializers.IntegerField):
    expected, accepts = "a whole number", (int,)


class QueryIntegerField(serializers.IntegerField):
    """A whole number in a query string: ASCII digits only ("010", " 5", "5.0" and other
    scripts' digits, which int() takes, are refused)."""

    def to_internal_value(self, data: Any) -> Any:
        if not (isinstance(data, str) and data.isascii() and data.isdigit() and len(data) <= 9):
            self.fail("invalid")
        if len(data) > 1 and data.startswith("0"):
            self.fail("invalid")
        return super().to_internal_value(data)


def query_integer(raw: str) -> int | None:
    """The same rule for code that reads request.query_params itself."""
    if raw.isascii() and raw.isdigit() and len(raw) <= 9 and (raw == "0" or not raw.startswith("0")):
        return int(raw)
    return None


class FloatField(_Strict, serializers.FloatField):
    expected, accepts = "a number", (int, float)


class StrictModelSerializer(serializers.ModelSerializer):
    """A ModelSerializer whose fields built from the model are the strict ones above."""

    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        **{
            model_field: strict
            for model_field, field in serializers.ModelSerializer.serializer_field_mapping.items()
            for base, strict in (
                (serializers.BooleanField, BooleanField),
                (serializers.CharField, CharField),
                (serializers.EmailField, EmailField),
                (serializers.IntegerField, IntegerField),
                (serializers.FloatField, FloatField),
            )
            if field is base
        },
    }
    serializer_choice_field = ChoiceField


# Text people will see: no control characters (they garble lists and logs). A name has at least
# one visible character; multi-line text (a bio, a description) keeps tabs and line breaks.
NAME_PATTERN = r"^[^\x00-\x1f\x7f]*[^\s\x00-\x1f\x7f][^\x00-\x1f\x7f]*$"
TEXT_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"


class NameField(CharField):
    """A single line of visible text: a name, a title."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(
            RegexValidator(NAME_PATTERN, "Use visible characters, without control characters or line breaks.")
        )


class TextField(CharField):
    """Free text that may span lines (a bio, a description)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators.append(RegexValidator(TEXT_PATTERN, "Remove the control characters."))


class RawTextField(_Strict, serializers.CharField):
    """Text taken as sent, control characters (NUL included) and all, for a service that cleans
    it itself (chat strips them)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.validators = [v for v in self.validators if not isinstance(v, ProhibitNullCharactersValidator)]
