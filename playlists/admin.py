from django.contrib import admin

from playlists.models import Playlist, PlaylistCollaborator, PlaylistSong


class PlaylistSongInline(admin.TabularInline):
    model = PlaylistSong
    fields = ("position", "song", "added_by", "created_at")
    readonly_fields = ("position", "song", "added_by", "created_at")
    ordering = ("position",)
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False  # songs are added through the API, which keeps positions dense under a lock


class CollaboratorInline(admin.TabularInline):
    model = PlaylistCollaborator
    raw_id_fields = ("user",)
    extra = 0


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_public", "collaborative", "song_count", "updated_at")
    list_filter = ("is_public", "collaborative")
    list_select_related = ("owner",)
    search_fields = ("name", "owner__email", "owner__name")
    raw_id_fields = ("owner",)
    readonly_fields = ("id", "song_count", "created_at", "updated_at")
    inlines = [CollaboratorInline, PlaylistSongInline]
