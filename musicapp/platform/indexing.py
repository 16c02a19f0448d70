"""What apps tell the search index, without knowing it: `changed("song", ids)` inside the write's
transaction. The search app registers the listener (AppConfig.ready()); with none registered
(search not installed) a change costs nothing."""

from __future__ import annotations

from collections.abc import Callable, Iterable

Listener = Callable[[str, list[str]], None]
_listeners: list[Listener] = []
_popularity_listeners: list[Callable[[], None]] = []
KINDS = ("song", "album", "artist", "playlist")


def listen(listener: Listener, *, on_popularity: Callable[[], None] | None = None) -> None:
    _listeners.append(listener)
    if on_popularity is not None:
        _popularity_listeners.append(on_popularity)


def popularity_changed() -> None:
    """Plays were counted anew (the popular songs): rankings that use them are stale."""
    for listener in _popularity_listeners:
        listener()


def changed(kind: str, ids: Iterable[str]) -> None:
    """These objects of `kind` were created, edited or deleted (call inside the transaction)."""
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}")
    ids = [object_id for object_id in dict.fromkeys(ids) if object_id]
    if ids:
        for listener in _listeners:
            listener(kind, ids)
