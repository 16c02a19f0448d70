"""Staff manage accounts here; every save goes through accounts.services (sign-outs, the cached
/api/user/me), and settings are checked by the same rules as the API's."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts import services
from accounts.models import Login, User, UserSettings
from accounts.serializers import SettingsSerializer
from musicapp.platform.handlers import flatten_errors


class UserSettingsForm(forms.ModelForm):
    """The API's SettingsSerializer judges staff edits too: an equalizer the player cannot use
    is refused here with the API's words, never saved to break the user's settings later."""

    class Meta:
        model = UserSettings
        fields = SettingsSerializer.Meta.fields  # the same fields, in the same order, as the API

    def clean(self):
        cleaned = super().clean() or {}
        check = SettingsSerializer(data={k: v for k, v in cleaned.items() if k in self.changed_data}, partial=True)
        if not check.is_valid():
            for field, texts in flatten_errors(check.errors).items():
                self.add_error(field.split(".")[0] if field.split(".")[0] in self.fields else None, texts)
        else:
            self.api_changes = check.validated_data
        return cleaned


class UserSettingsInline(admin.StackedInline):
    model = UserSettings
    form = UserSettingsForm
    can_delete = False
    extra = 0


class LoginInline(admin.TabularInline):
    model = Login
    extra = 0
    can_delete = False
    fields = ("created_at", "last_refreshed_at", "ip", "user_agent", "revoked_at", "revoked_reason")
    readonly_fields = fields
    ordering = ("-created_at",)

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("-created_at",)
    list_display = ("email", "name", "is_email_verified", "is_active", "is_staff", "created_at")
    list_filter = ("is_email_verified", "is_active", "is_staff", "is_superuser")
    search_fields = ("email", "name")
    readonly_fields = ("id", "created_at", "updated_at", "last_login")
    inlines = [UserSettingsInline, LoginInline]
    actions = ["verify_email", "deactivate", "resend_code"]
    fieldsets = (
        (None, {"fields": ("id", "email", "password")}),
        ("Profile", {"fields": ("name", "bio", "avatar")}),
        (
            "Status",
            {"fields": ("is_email_verified", "is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        services.user_staff_save(user=obj, changed=form.changed_data)

    def save_formset(self, request, form, formset, change):
        if formset.model is not UserSettings:
            return super().save_formset(request, form, formset, change)
        formset.save(commit=False)  # what the admin's history message lists; the service saves
        for settings_form in formset.forms:
            if settings_form.has_changed():
                services.user_settings_update(user=form.instance, changes=settings_form.api_changes)
        return None

    @admin.action(description="Mark email as verified")
    def verify_email(self, request, queryset):
        for user in queryset.filter(is_email_verified=False):
            services.user_mark_verified(user=user)
        self.message_user(request, "Marked as verified.", messages.SUCCESS)

    @admin.action(description="Deactivate (signs them out everywhere)")
    def deactivate(self, request, queryset):
        count = 0
        for user in queryset.filter(is_active=True).exclude(pk=request.user.pk):
            services.user_deactivate(user=user)
            count += 1
        self.message_user(request, f"Deactivated {count} account(s); their tokens no longer work.", messages.SUCCESS)

    @admin.action(description="Send a new verification code")
    def resend_code(self, request, queryset):
        users = list(queryset.filter(is_email_verified=False, is_active=True))
        for user in users:
            services.user_resend_code(user=user)
        self.message_user(request, f"Queued {len(users)} code(s) for the mail worker.", messages.SUCCESS)
