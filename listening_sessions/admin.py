"""Staff see sessions with their participants and chat; ending a session and deleting a message
go through the services, so every socket hears of it."""

from django.contrib import admin, messages

from listening_sessions import services
from listening_sessions.models import ChatMessage, ListeningSession, PlayedItem, Reaction, SessionParticipant


class ShownInline(admin.TabularInline):
    """A session's rows, shown and never added or changed here (the services own them); the
    foreign keys in `related` are read with the rows, not one query each."""

    extra = 0
    can_delete = False
    related: tuple[str, ...] = ()

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related(*self.related)


class ParticipantInline(ShownInline):
    model = SessionParticipant
    fields = ("user", "joined_at", "left_at", "removed_at", "wants_recap", "recap")
    readonly_fields = fields
    related = ("user", "recap")


class ChatInline(ShownInline):
    """Ticking "delete" takes a message down for everyone at once."""

    model = ChatMessage
    fields = ("created_at", "user", "text")
    readonly_fields = fields
    ordering = ("-created_at",)
    can_delete = True
    related = ("user",)


class PlayedInline(ShownInline):
    """The session's history: what it played, and who added each song."""

    model = PlayedItem
    fields = ("played_at", "song", "added_by")
    readonly_fields = fields
    ordering = ("played_at",)
    related = ("song", "added_by")


class ReactionInline(ShownInline):
    model = Reaction
    fields = ("created_at", "user", "emoji", "song", "position")
    readonly_fields = fields
    ordering = ("-created_at",)
    related = ("song", "user")


@admin.register(ListeningSession)
class ListeningSessionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "host", "is_active", "created_at", "expires_at", "end_reason")
    list_filter = ("is_active", "end_reason")
    list_select_related = ("host",)
    search_fields = ("code", "name", "host__email")
    fields = (
        "code",
        "name",
        "host",
        "is_active",
        "current_song",
        "is_playing",
        "guests_can_control",
        "fair_queue",
        "queue_limit",
        "skip_share",
        "created_at",
        "expires_at",
        "ended_at",
        "end_reason",
    )
    readonly_fields = fields
    inlines = [ParticipantInline, PlayedInline, ReactionInline, ChatInline]
    actions = ["end_sessions"]

    def has_add_permission(self, request):
        return False

    def save_formset(self, request, form, formset, change):
        formset.save(commit=False)  # what the admin's history lists; the services do the rest
        for message in formset.deleted_objects:
            services.chat_delete(message_id=message.pk)

    @admin.action(description="End the session (everyone is told, their sockets close)")
    def end_sessions(self, request, queryset):
        ended = 0
        for session_id in queryset.filter(is_active=True).values_list("pk", flat=True):
            services.session_end_by_staff(session_id=session_id)
            ended += 1
        self.message_user(request, f"Ended {ended} session(s).", messages.SUCCESS)


@admin.register(ChatMessage)
class ChatMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "session", "user", "text")
    list_select_related = ("session", "user")
    search_fields = ("text", "session__code", "user__email")
    readonly_fields = ("session", "user", "text", "created_at")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        services.chat_delete(message_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for message_id in queryset.values_list("pk", flat=True):
            services.chat_delete(message_id=message_id)
