from django.db import models
from django.db.models import Exists, OuterRef, Prefetch, Q


def _collaborating(user):
    from playlists.models import PlaylistCollaborator

    return Exists(PlaylistCollaborator.objects.filter(playlist=OuterRef("pk"), user=user))


class PlaylistQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Public playlists, and the caller's own and collaborative ones."""
        if user is None or not user.is_authenticated:
            return self.filter(is_public=True)
        return self.filter(Q(is_public=True) | Q(owner=user) | _collaborating(user))

    def of_member(self, user):
        """Owned or collaborating on (the caller's list)."""
        return self.filter(Q(owner=user) | _collaborating(user))

    def for_api(self):
        """Everything the playlist JSON shows, in three queries for any number of playlists."""
        from playlists.models import PlaylistSong

        return self.select_related("owner").prefetch_related(
            "collaborators",
            Prefetch("entries", queryset=PlaylistSong.objects.order_by("position").only("playlist_id", "song_id")),
        )
