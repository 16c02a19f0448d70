"""Where a play happened (contextType) and what it points at (contextId).

    album / artist   the song's own album / artist id
    playlist         a playlist the listener may read that holds the song (playlists app)
    session          a listening session the listener is in (listening_sessions app)
    search           the search text, optional
    other            nothing

Apps that own a context register its check in their AppConfig.ready(); a context whose app
is not installed has nothing a play could point at, so it is refused.
"""

from collections.abc import Callable

from musicapp.platform.errors import InvalidInput

Check = Callable[..., str]
_checks: dict[str, Check] = {}
NOT_FOUND = {
    "playlist": "No such playlist, or it does not hold this song.",
    "session": "No such listening session, or you are not in it.",
}


def register(context_type: str, check: Check) -> None:
    """check(user=, song=, context_id=) returns the normalized id or raises InvalidInput."""
    _checks[context_type] = check


def _bad(text: str) -> InvalidInput:
    return InvalidInput(f"contextId: {text}", errors={"context_id": [text]})


def _own(attr: str, label: str) -> Check:
    def check(*, user, song, context_id: str) -> str:
        if not context_id or context_id != getattr(song, attr):
            raise _bad(f"For a play in an {label} context, send the song's {label} id.")
        return context_id

    return check


def _search(*, user, song, context_id: str) -> str:
    if len(context_id) > 200:
        raise _bad("Keep the search text under 200 characters.")
    return context_id


def _other(*, user, song, context_id: str) -> str:
    if context_id:
        raise _bad('A play in the "other" context points at nothing: leave contextId empty.')
    return ""


register("album", _own("album_id", "album"))
register("artist", _own("artist_id", "artist"))
register("search", _search)
register("other", _other)


def check_context(*, user, song, context_type: str, context_id: str) -> str:
    check = _checks.get(context_type)
    if check is None:
        raise _bad(NOT_FOUND.get(context_type, "Unknown context."))
    return check(user=user, song=song, context_id=context_id)
