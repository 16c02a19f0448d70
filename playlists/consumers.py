"""ws(s)://<host>/ws/playlist/<id>/?token=... : live updates of one playlist (WS.md).

Anyone who may read the playlist may listen; others are refused with 4401 (no valid token),
4403 (origin not allowed) or 4404 (no such playlist, or not theirs to see). After every
committed change they get playlist:update with the REST playlist object, and playlist:deleted
when it goes. A listener who may no longer read it (made private, or removed) is closed with 4404.
"""

from typing import Any

from musicapp.platform.websocket import JsonConsumer, origin_allowed, socket_db
from playlists import services
from playlists.models import Playlist


@socket_db
def _may_read(playlist_id: str, user: Any) -> bool:
    return Playlist.objects.visible_to(user).filter(pk=playlist_id).exists()


class PlaylistConsumer(JsonConsumer):
    async def connect(self) -> None:
        self.playlist_id = self.scope["url_route"]["kwargs"]["playlist_id"]
        user = self.scope["user"]
        if not origin_allowed(self.scope):
            return await self.refuse(4403)
        if not user.is_authenticated:
            return await self.refuse(4401)
        if not await _may_read(self.playlist_id, user):
            return await self.refuse(4404)
        # Updates are written to this socket straight from the process's receiver (realtime:
        # one pass over 3,000 listeners, not 3,000 consumers waking); frames that arrive before
        # the accept wait for it. Joined before accepting: once the client sees the socket open,
        # no update can slip past it.
        frames = self.channel_layer.attach(self.channel_name, self.takes_frame, self.base_send)
        await self.join(services.group_name(self.playlist_id))
        await self.accept()
        frames.open()

    def takes_frame(self, event: dict[str, Any]) -> bool:
        """An update this listener may read, sent as is; the rest come to playlist_update."""
        return event["type"] == "playlist.update" and (event["is_public"] or self.scope["user"].pk in event["members"])

    async def command(self, kind: str, data: dict[str, Any]) -> None:
        await self.send_error("read_only", "This socket only sends playlist updates.")

    async def playlist_update(self, event: dict[str, Any]) -> None:
        user = self.scope["user"]
        if not (event["is_public"] or user.pk in event["members"]):
            return await self.close(code=4404)
        if "frame" in event:
            await self.send(text_data=event["frame"])
        else:  # sent by a process of the release before (a rolling deploy)
            await self.send_json({"type": "playlist:update", "data": {"playlist": event["playlist"]}})

    async def playlist_deleted(self, event: dict[str, Any]) -> None:
        await self.send_json({"type": "playlist:deleted", "data": {"id": event["id"]}})
        await self.close(code=4410)
