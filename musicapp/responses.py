from rest_framework.response import Response


def ok(status: int = 200, **payload) -> Response:
    """The success envelope of API.md: {"success": true, <named payload>}."""
    return Response({"success": True, **payload}, status=status)
