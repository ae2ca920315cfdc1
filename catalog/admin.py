from django import forms
from django.contrib import admin
from django.contrib.admin.widgets import FilteredSelectMultiple
from django.db.models import Count

from audit.services import Actor
from catalog import services
from catalog.models import Package, PackageAction, Tool, ToolAction
from catalog.selectors import sellable_actions
from core.admin import ReadOnlyAdmin, ReadOnlyTabularInline, ServiceAdmin, status_actions


class CatalogAdmin(ServiceAdmin):
    """Catalog writes are audited in the platform tenant, whose staff make them."""

    creation_fields: list[str] = []

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm(f"catalog.add_{self.opts.model_name}")

    def get_readonly_fields(self, request, obj=None):
        # Keys are what products and grants refer to: set once, at creation.
        if obj is None:
            return [field for field in self.fields if field not in self.creation_fields]
        return self.fields

    def service_arguments(self, request) -> dict:
        return {"actor": Actor.for_user(request.user), "actor_tenant": request.user.tenant}


class ActionInline(ReadOnlyTabularInline):
    model = ToolAction
    fields = ["key", "name", "access_level", "scope", "status"]
    readonly_fields = fields
    show_change_link = True


@admin.register(Tool)
class ToolAdmin(CatalogAdmin):
    list_display = ["key", "name", "is_core", "status", "created_at"]
    list_filter = ["status", "is_core"]
    search_fields = ["key", "name"]
    fields = ["key", "name", "description", "is_core", "status", "created_at"]
    creation_fields = ["key", "name", "description", "is_core"]
    inlines = [ActionInline]

    def save_with_service(self, request, obj, form, change):
        return services.create_tool(**form.cleaned_data, **self.service_arguments(request))


@admin.register(ToolAction)
class ToolActionAdmin(CatalogAdmin):
    list_display = ["key", "tool", "access_level", "scope", "status"]
    list_filter = ["status", "access_level", "scope", "tool"]
    list_select_related = ["tool"]
    search_fields = ["key", "name"]
    fields = ["tool", "key", "name", "description", "access_level", "scope", "status", "suspended_reason"]
    creation_fields = ["tool", "key", "name", "description", "access_level", "scope"]
    actions = ["deactivate", "reactivate"]

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("catalog.change_toolaction")

    def save_with_service(self, request, obj, form, change):
        return services.create_action(**form.cleaned_data, **self.service_arguments(request))

    deactivate, reactivate = status_actions(
        lambda admin_, request, action, status, reason: services.set_action_status(
            action=action, status=status, reason=reason, **admin_.service_arguments(request)),
        noun="action", suspend="deactivate", effect=" (everywhere, at once)",
    )


class PackageForm(forms.ModelForm):
    """The package's actions as Django's two-pane selector; only tenant-scope actions can be sold."""

    # Not named `actions`: the admin refuses a many-to-many with its own through model as a form field.
    sold_actions = forms.ModelMultipleChoiceField(
        queryset=sellable_actions(),
        widget=FilteredSelectMultiple("actions", is_stacked=False),
        required=False,
    )

    class Meta:
        model = Package
        fields = ["key", "name", "description"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            self.fields["sold_actions"].initial = list(self.instance.actions.values_list("pk", flat=True))


@admin.register(Package)
class PackageAdmin(CatalogAdmin):
    form = PackageForm
    list_display = ["key", "name", "status", "action_count", "created_at"]
    list_filter = ["status"]
    search_fields = ["key", "name"]
    fields = ["key", "name", "description", "sold_actions", "status", "created_at"]
    creation_fields = ["key", "name", "description", "sold_actions"]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(action_total=Count("package_actions"))

    @admin.display(description="actions", ordering="action_total")
    def action_count(self, package):
        return package.action_total

    @admin.display(description="actions")
    def sold_actions(self, package):
        return ", ".join(package.actions.order_by("key").values_list("key", flat=True))

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("catalog.change_package")

    def get_readonly_fields(self, request, obj=None):
        # On an existing package only its actions change; key and name are what tenants were sold.
        if obj is None:
            return super().get_readonly_fields(request, obj)
        return [field for field in self.fields if field != "sold_actions"]

    def save_with_service(self, request, obj, form, change):
        arguments = self.service_arguments(request)
        keys = {action.key for action in form.cleaned_data["sold_actions"]}
        if not change:
            return services.create_package(
                key=form.cleaned_data["key"], name=form.cleaned_data["name"],
                description=form.cleaned_data["description"], actions=sorted(keys), **arguments
            )
        held = set(obj.actions.values_list("key", flat=True))
        services.add_package_actions(package=obj, action_keys=keys - held, **arguments)
        services.remove_package_actions(package=obj, action_keys=held - keys, **arguments)
        return obj

    def save_related(self, request, form, formsets, change):
        """The actions were written by the service in save_model."""


@admin.register(PackageAction)
class PackageActionAdmin(ReadOnlyAdmin):
    list_display = ["package", "tool_action", "created_at"]
    list_filter = ["package"]
    list_select_related = ["package", "tool_action"]
