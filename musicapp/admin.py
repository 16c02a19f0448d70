"""The operator's switches and feature flags, edited by staff; every save is seen by every
process within a second (musicapp.platform.switches)."""

from django.contrib import admin
from django.http import HttpRequest

from musicapp.models import FeatureFlag, Switches
from musicapp.platform import switches


class SwitchesChanged:
    """Tell every process to read the switches again after each change made here."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)  # type: ignore[misc]
        switches.changed()

    def delete_model(self, request, obj):
        super().delete_model(request, obj)  # type: ignore[misc]
        switches.changed()

    def delete_queryset(self, request, queryset):
        super().delete_queryset(request, queryset)  # type: ignore[misc]
        switches.changed()


@admin.register(Switches)
class SwitchesAdmin(SwitchesChanged, admin.ModelAdmin):
    list_display = ["__str__", "read_only", "signups_open", "updated_at"]
    readonly_fields = ["updated_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not Switches.objects.exists()  # one row

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(FeatureFlag)
class FeatureFlagAdmin(SwitchesChanged, admin.ModelAdmin):
    list_display = ["name", "enabled", "rollout_percent", "description", "updated_at"]
    list_editable = ["enabled", "rollout_percent"]
    readonly_fields = ["updated_at"]
