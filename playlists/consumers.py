"""ws(s)://<host>/ws/playlist/<id>/?token=... : live updates of one playlist (WS.md).

Anyone who may read the playlist may listen; others are refused with 4401 (no valid token),
4403 (origin not allowed) or 4404 (no such playlist, or not theirs to see). After every
committed change they get playlist:update with the REST playlist object, and playlist:deleted
when it goes. A listener who may no longer read it (made private, or removed) is closed with 4404.
"""

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from musicapp.platform.websocket import origin_allowed
from playlists import services
from playlists.models import Playlist


@database_sync_to_async
def _may_read(playlist_id: str, user) -> bool:
    return Playlist.objects.visible_to(user).filter(pk=playlist_id).exists()


class PlaylistConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        self.playlist_id = self.scope["url_route"]["kwargs"]["playlist_id"]
        self.group = services.group_name(self.playlist_id)
        user = self.scope["user"]
        refusal = None
        if not origin_allowed(self.scope):
            refusal = 4403
        elif not user.is_authenticated:
            refusal = 4401
        elif not await _may_read(self.playlist_id, user):
            refusal = 4404
        if refusal:
            await self.accept()  # a close code can only follow an accepted handshake
            return await self.close(code=refusal)
        # Join before accepting: once the client sees the socket open, no update can slip past it.
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code):
        await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        await self.send_json(
            {"type": "error", "data": {"code": "read_only", "message": "This socket only sends playlist updates."}}
        )

    async def playlist_update(self, event):
        user = self.scope["user"]
        if not (event["is_public"] or user.pk in event["members"]):
            return await self.close(code=4404)
        await self.send_json({"type": "playlist:update", "data": {"playlist": event["playlist"]}})

    async def playlist_deleted(self, event):
        await self.send_json({"type": "playlist:deleted", "data": {"id": event["id"]}})
        await self.close(code=4410)
