from django.urls import register_converter


class ObjectIdConverter:
    """<oid:name>: a 24-hex ObjectId; anything else does not match (404 without a query)."""

    regex = "[0-9a-f]{24}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(ObjectIdConverter, "oid")
