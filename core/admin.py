"""What every model admin of the back office builds on (the site itself: operations/admin.py).

The admin never saves a model by itself: every write is an action or a form whose save calls the
owning app's service, so a change made here is validated, audited and announced exactly like the
same change made through the API.
"""

import functools

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.core.paginator import Paginator
from django.db import connections
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.html import format_html

from core.api.exceptions import ApiError
from core.db.models import Status

__all__ = [
    "EstimatedCountPaginator",
    "LargeTableAdmin",
    "ReadOnlyAdmin",
    "ReadOnlyStackedInline",
    "ReadOnlyTabularInline",
    "ServiceAdmin",
    "status_actions",
    "truncated",
    "apply_each",
    "error_text",
    "with_reason",
]


class EstimatedCountPaginator(Paginator):
    """Exact counts for small result sets, the planner's estimate for large ones.

    A changelist counts its rows to draw the page links; on a table of millions that COUNT(*) is
    the slowest query of the page. Above `exact_below` rows the last page links are approximate,
    which nobody browsing an audit log by page number notices.
    """

    exact_below = 10_000

    @cached_property
    def count(self):
        estimate = self._planner_estimate()
        if estimate >= self.exact_below:
            return estimate
        return super().count

    def _planner_estimate(self) -> int:
        unordered = self.object_list.order_by()
        sql, params = unordered.query.sql_with_params()
        with connections[unordered.db].cursor() as cursor:
            cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
            plan = cursor.fetchone()[0]
        return int(plan[0]["Plan"]["Plan Rows"])


class NoWrites:
    """Offers no add, change or delete; subclasses open what a service backs."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(NoWrites, admin.ModelAdmin):
    """Shows rows without offering writes. Secret-bearing columns are left out with `exclude`."""

    list_per_page = 50
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        # Django leaves times it sets itself off a row's page; staff want to see when it was written.
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is None:
            return readonly
        model_fields = {field.name for field in self.model._meta.concrete_fields}
        hidden = {*readonly, *(self.exclude or ())}
        return [*readonly, *(name for name in ("created_at", "updated_at") if name in model_fields - hidden)]


class ReadOnlyTabularInline(NoWrites, admin.TabularInline):
    extra = 0


class ReadOnlyStackedInline(NoWrites, admin.StackedInline):
    extra = 0


class LargeTableAdmin(ReadOnlyAdmin):
    """For tables that grow without bound: no exact counts, no per-filter facet counts."""

    paginator = EstimatedCountPaginator
    show_facets = admin.ShowFacets.NEVER


def truncated(value) -> str:
    """An id or digest cut to its first characters, whole on hover (title) and when copied: a column of
    full uuids is what pushes a list past the window's edge."""
    return format_html('<span class="hub-truncated" title="{}">{}</span>', value, value) if value else "-"


def error_text(exc: ApiError) -> str:
    details = exc.details
    if isinstance(details, dict):
        return f"{exc.message} " + "; ".join(f"{field}: {', '.join(map(str, problems))}"
                                             for field, problems in details.items())
    return f"{exc.message} {details}" if details else exc.message


class ServiceAdmin(ReadOnlyAdmin):
    """An admin whose forms save through a service: a refusal is shown on the page, not as a 500.

    Forms validate what they can; what only the service knows (a race on a unique key, a rule
    across rows) arrives as an ApiError, rolls the admin's transaction back and is reported.
    """

    def save_with_service(self, request, obj, form, change):
        """Write the form through the owning service and return the row it wrote."""
        raise NotImplementedError

    def save_model(self, request, obj, form, change):
        saved = self.save_with_service(request, obj, form, change)
        # The admin goes on with `obj` (its log entry, the redirect): point it at the row written.
        obj.pk = saved.pk

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except ApiError as exc:
            self.message_user(request, error_text(exc), messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())


def apply_each(modeladmin, request, queryset, operation, done: str) -> None:
    """Run `operation(obj)` per selected row, each in its service's transaction; report both tallies."""
    applied, refused = 0, []
    for obj in queryset:
        try:
            operation(obj)
            applied += 1
        except ApiError as exc:
            refused.append(f"{obj}: {error_text(exc)}")
    if applied:
        modeladmin.message_user(request, f"{applied} {done}.", messages.SUCCESS)
    for refusal in refused:
        modeladmin.message_user(request, refusal, messages.ERROR)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}))


def with_reason(*, description: str, permissions: list[str], name: str | None = None):
    """An admin action that asks for a reason on a confirmation page before it runs.

    The page posts back to the changelist with the same action and selection plus the reason,
    which is how Django's own delete confirmation works.
    """

    def decorator(apply):
        @admin.action(description=description, permissions=permissions)
        @functools.wraps(apply)
        def action(modeladmin, request, queryset):
            form = ReasonForm(request.POST if "reason" in request.POST else None)
            if form.is_valid():
                return apply(modeladmin, request, queryset, form.cleaned_data["reason"])
            context = {
                **modeladmin.admin_site.each_context(request),
                "title": description,
                "opts": modeladmin.model._meta,
                "queryset": queryset,
                "form": form,
                "action_name": name or apply.__name__,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            }
            return TemplateResponse(request, "admin/action_reason.html", context)

        return action

    return decorator


def status_actions(set_status, *, noun: str, suspend: str = "suspend", effect: str = ""):
    """The pair of actions every status-bearing row gets: `suspend` (asks for a reason), `reactivate`.

    `set_status(modeladmin, request, obj, status, reason)` calls the owning service. Assign the pair
    to the same names in the admin class: `suspend, reactivate = status_actions(...)`.
    """

    @with_reason(description=f"{suspend.capitalize()} the selected {noun}s{effect}", permissions=["change"],
                 name=suspend)
    def suspend_selected(modeladmin, request, queryset, reason):
        apply_each(modeladmin, request, queryset,
                   lambda obj: set_status(modeladmin, request, obj, Status.SUSPENDED, reason),
                   f"{noun}(s) {suspend.removesuffix('e')}ed")

    @admin.action(description=f"Reactivate the selected {noun}s", permissions=["change"])
    def reactivate_selected(modeladmin, request, queryset):
        apply_each(modeladmin, request, queryset,
                   lambda obj: set_status(modeladmin, request, obj, Status.ACTIVE, ""),
                   f"{noun}(s) reactivated")

    return suspend_selected, reactivate_selected
