from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from audit.services import Actor
from catalog.models import Package
from core.admin import ReadOnlyAdmin, ServiceAdmin, apply_each, error_text, status_actions
from core.api.exceptions import ApiError
from core.db.models import Status
from identity import onboarding
from identity.admin import shown_once
from identity.models import User
from tenancy import services
from tenancy.models import Tenant, TenantPackage, TenantToolOverride


class PackageChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, package):
        return f"{package.name} ({package.key})"


def active_packages():
    return Package.objects.filter(status=Status.ACTIVE).order_by("name")


class HeldPackageForm(forms.ModelForm):
    class Meta:
        model = TenantPackage
        fields = ["package", "expires_at"]
        field_classes = {"package": PackageChoiceField}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.instance._state.adding:
            # A held package is changed (new expiry) or removed, never swapped for another.
            self.fields["package"].disabled = True
        else:
            self.fields["package"].queryset = active_packages()

    def clean_expires_at(self):
        expires_at = self.cleaned_data["expires_at"]
        if expires_at is not None and expires_at <= timezone.now():
            raise forms.ValidationError("Must be in the future.")
        return expires_at


class HeldPackageInline(admin.TabularInline):
    model = TenantPackage
    form = HeldPackageForm
    fields = ["package", "expires_at", "status", "assigned_at"]
    readonly_fields = ["status", "assigned_at"]
    extra = 0
    verbose_name = "package held"
    verbose_name_plural = "packages held (assign, change expiry, unassign)"

    def get_queryset(self, request):
        # Each row's heading names its package (TenantPackage.__str__).
        return super().get_queryset(request).select_related("package")


class OnboardingForm(forms.Form):
    """What `POST /v1/tenants` takes. The service is the judge of the rest (a slug already taken):
    its refusals come back onto this form through `refuse`."""

    slug = forms.SlugField(max_length=63, help_text="Letters, digits, hyphens and underscores; it never changes.")
    name = forms.CharField(max_length=200)
    package = PackageChoiceField(queryset=active_packages())
    admin_email = forms.EmailField(label="Admin's e-mail", max_length=254,
                                   help_text="The tenant's first ADM_CLIENTE admin; invited to set a password.")
    admin_name = forms.CharField(label="Admin's name", max_length=200, required=False)

    # The service names the fields as the API's body does.
    API_FIELDS = {"slug": "slug", "name": "name", "packageKey": "package", "email": "admin_email",
                  "adminUser": "admin_email"}

    def refuse(self, exc: ApiError) -> None:
        details = exc.details if isinstance(exc.details, dict) else {}
        placed = {name: problems for name, problems in details.items() if name in self.API_FIELDS}
        for name, problems in placed.items():
            self.add_error(self.API_FIELDS[name], [str(problem) for problem in problems])
        if not placed or len(placed) < len(details):
            self.add_error(None, error_text(exc))


class PackageHeldFilter(admin.SimpleListFilter):
    title = "package"
    parameter_name = "package"

    def lookups(self, request, model_admin):
        return Package.objects.order_by("key").values_list("key", "name")

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(packages_held__package__key=self.value())
        return queryset


@admin.register(Tenant)
class TenantAdmin(ServiceAdmin):
    list_display = ["slug", "name", "status", "is_platform", "user_count", "created_at"]
    list_filter = ["status", PackageHeldFilter, ("created_at", admin.DateFieldListFilter)]
    search_fields = ["slug", "name"]
    fields = ["slug", "name", "status", "suspended_reason", "is_platform", "created_at", "updated_at"]
    readonly_fields = fields
    # Branding and configuration are shown on this page readably by the tenant at a glance
    # (operations/templates/admin/tenancy/tenant/change_form.html), so they have no inline here.
    inlines = [HeldPackageInline]
    actions = ["suspend", "reactivate", "run_seed"]

    def get_queryset(self, request):
        # A correlated count per row of the page, not a GROUP BY over every user of every tenant.
        users = (
            User.objects.filter(tenant=OuterRef("pk"), deleted_at__isnull=True)
            .order_by().values("tenant").annotate(total=Count("id")).values("total")
        )
        return super().get_queryset(request).annotate(
            user_count=Coalesce(Subquery(users, output_field=IntegerField()), 0)
        )

    @admin.display(description="users", ordering="user_count")
    def user_count(self, tenant):
        return tenant.user_count

    def has_add_permission(self, request):
        return request.user.has_perm("tenancy.add_tenant")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("tenancy.change_tenant")

    def add_view(self, request, form_url="", extra_context=None):
        """Onboarding: the form of `POST /v1/tenants`, through the same service, then the admin's
        invitation shown once."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = OnboardingForm(request.POST if request.method == "POST" else None)
        if form.is_valid():
            try:
                onboarded = onboarding.onboard_tenant(
                    slug=form.cleaned_data["slug"], name=form.cleaned_data["name"],
                    package_key=form.cleaned_data["package"].key, admin_email=form.cleaned_data["admin_email"],
                    admin_name=form.cleaned_data["admin_name"], actor=Actor.for_user(request.user))
            except ApiError as exc:
                form.refuse(exc)
            else:
                self.log_addition(request, onboarded.tenant, [{"added": {}}])
                return shown_once(self, request, "admin/tenancy/tenant/onboarded.html", "Tenant onboarded",
                                  [(onboarded.admin.user, onboarded.admin.invitation)])
        context = {
            **self.admin_site.each_context(request),
            "title": "Onboard a tenant",
            "adminform": helpers.AdminForm(form, [(None, {"fields": list(form.fields)})], {}),
            "object_id": None,
            "original": None,
            "is_popup": False,
            "to_field": None,
            "media": self.media + form.media,
            "inline_admin_formsets": [],
            "errors": helpers.AdminErrorList(form, []),
            "preserved_filters": self.get_preserved_filters(request),
            # One way out of this form: the page that shows the invitation.
            "show_save_and_continue": False,
            "show_save_and_add_another": False,
            **(extra_context or {}),
        }
        return self.render_change_form(request, context, add=True, form_url=form_url)

    def save_model(self, request, obj, form, change):
        """Every field of the tenant itself is read-only here: status moves through the actions."""

    def save_formset(self, request, form, formset, change):
        if formset.model is not TenantPackage:
            # Branding and config are read-only here: their unchanged forms save nothing.
            return super().save_formset(request, form, formset, change)
        tenant, actor = form.instance, Actor.for_user(request.user)
        formset.save(commit=False)
        for held in formset.deleted_objects:
            services.unassign_package(tenant=tenant, package=held.package, actor=actor)
        for held in [*formset.new_objects, *(obj for obj, _fields in formset.changed_objects)]:
            onboarding.assign_package(tenant=tenant, package_key=held.package.key, expires_at=held.expires_at,
                                      actor=actor)

    suspend, reactivate = status_actions(
        lambda admin_, request, tenant, status, reason: services.set_tenant_status(
            tenant=tenant, status=status, reason=reason, actor=Actor.for_user(request.user)),
        noun="tenant",
    )

    @admin.action(description="Run the tenant seed (top up base groups)", permissions=["change"])
    def run_seed(self, request, queryset):
        actor = Actor.for_user(request.user)
        apply_each(self, request, queryset, lambda tenant: onboarding.run_tenant_seed(tenant=tenant, actor=actor),
                   "tenant seed(s) run")


@admin.register(TenantPackage)
class TenantPackageAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "package", "status", "assigned_at", "expires_at"]
    list_filter = ["status", "package"]
    list_select_related = ["tenant", "package"]
    search_fields = ["tenant__slug"]


@admin.register(TenantToolOverride)
class TenantToolOverrideAdmin(ReadOnlyAdmin):
    list_display = ["tenant", "tool", "tool_action", "created_at"]
    list_select_related = ["tenant", "tool", "tool_action"]
