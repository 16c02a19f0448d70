"""Staff see and edit playlists here; every save and delete goes through playlists.services, so
caches drop and live listeners hear of it exactly as when the owner makes the change."""

from django.contrib import admin

from playlists import services
from playlists.models import Playlist, PlaylistCollaborator, PlaylistInvitation, PlaylistSong


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
    """Add a collaborator with a new row, remove one by ticking delete (rows are not edited in place)."""

    model = PlaylistCollaborator
    raw_id_fields = ("user",)
    extra = 0

    def has_change_permission(self, request, obj=None):
        return False


class InvitationInline(admin.TabularInline):
    model = PlaylistInvitation
    fields = ("email", "invited_by", "created_at", "expires_at")
    readonly_fields = fields
    extra = 0

    def has_add_permission(self, request, obj=None):
        return False  # owners invite through the API, which emails the invitation


@admin.register(Playlist)
class PlaylistAdmin(admin.ModelAdmin):
    list_display = ("name", "owner", "is_public", "collaborative", "song_count", "updated_at")
    list_filter = ("is_public", "collaborative")
    list_select_related = ("owner",)
    search_fields = ("name", "owner__email", "owner__name")
    raw_id_fields = ("owner",)
    readonly_fields = ("id", "song_count", "created_at", "updated_at")
    inlines = [CollaboratorInline, InvitationInline, PlaylistSongInline]

    def save_model(self, request, obj, form, change):
        services.playlist_staff_save(playlist=obj)

    def save_formset(self, request, form, formset, change):
        if formset.model is not PlaylistCollaborator:
            return super().save_formset(request, form, formset, change)
        for link in formset.save(commit=False):  # new rows only: existing ones are not editable
            services.collaborator_staff_add(playlist_id=form.instance.pk, user_id=link.user_id)
        for link in formset.deleted_objects:
            services.collaborator_staff_remove(playlist_id=form.instance.pk, user_id=link.user_id)
        return None

    def delete_model(self, request, obj):
        services.playlist_staff_delete(playlist_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for playlist_id in queryset.values_list("pk", flat=True):
            services.playlist_staff_delete(playlist_id=playlist_id)
