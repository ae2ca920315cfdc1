from django.contrib import admin

from catalog.models import Package, PackageAction, Tool, ToolAction
from config.admin import ReadOnlyAdmin


@admin.register(Tool)
class ToolAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "is_core", "status", "created_at"]
    list_filter = ["status", "is_core"]
    search_fields = ["key", "name"]


@admin.register(ToolAction)
class ToolActionAdmin(ReadOnlyAdmin):
    list_display = ["key", "tool", "access_level", "scope", "status"]
    list_filter = ["status", "access_level", "scope", "tool"]
    list_select_related = ["tool"]
    search_fields = ["key", "name"]


@admin.register(Package)
class PackageAdmin(ReadOnlyAdmin):
    list_display = ["key", "name", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["key", "name"]


@admin.register(PackageAction)
class PackageActionAdmin(ReadOnlyAdmin):
    list_display = ["package", "tool_action", "created_at"]
    list_filter = ["package"]
    list_select_related = ["package", "tool_action"]
