"""The base of every tenant-scoped collection: the one place tenant isolation is enforced."""

import hashlib

from rest_framework import mixins
from rest_framework.generics import GenericAPIView
from rest_framework.viewsets import GenericViewSet

from core.api.exceptions import PreconditionFailed
from core.api.filters import ListFilterBackend
from core.api.pagination import KeysetPagination
from core.api.rows import plan_for
from core.api.views import UUID_PATTERN, TenantScopedAPIView

__all__ = ["ListMixin", "TenantScopedViewSet", "etag_for"]


def etag_for(instance) -> str:
    version = f"{instance.pk}:{instance.updated_at.isoformat()}"
    return f'"{hashlib.sha256(version.encode()).hexdigest()[:32]}"'


class TenantScopedViewSet(TenantScopedAPIView, GenericViewSet):
    """`queryset` is always narrowed to the caller's tenant here, never in a view by hand, so an id
    from another tenant is simply not found (404)."""

    pagination_class = KeysetPagination
    filter_backends = [ListFilterBackend]
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self):
        return self.queryset.for_tenant(self.tenant)

    def finalize_response(self, request, response, *args, **kwargs):
        instance = getattr(self, "_etag_instance", None)
        if instance is not None and request.method in ("GET", "PATCH") and response.status_code == 200:
            response["ETag"] = etag_for(instance)
        return super().finalize_response(request, response, *args, **kwargs)

    def get_object(self):
        instance = super().get_object()
        # The row was found inside the caller's tenant: services reading `instance.tenant` get that
        # tenant, not one more query.
        if getattr(instance, "tenant_id", None) == self.tenant.pk:
            type(instance)._meta.get_field("tenant").set_cached_value(instance, self.tenant)
        if_match = self.request.headers.get("If-Match")
        if self.request.method == "PATCH" and if_match and if_match.strip() not in ("*", etag_for(instance)):
            raise PreconditionFailed()
        self._etag_instance = instance
        return instance


# No docstring: drf-spectacular would publish it as the description of every view that mixes it in.
class ListMixin(mixins.ListModelMixin):
    def list(self, request, *args, **kwargs):
        # DRF's list, reading the page as rows when the serializer allows it (core/api/rows.py),
        # with SQL compiled once per shape of page when the request narrows the tenant's rows no further.
        plan = plan_for(self.get_serializer_class())
        if plan is None or not isinstance(self.paginator, KeysetPagination):
            return super().list(request, *args, **kwargs)
        if self._whole_tenant(request):
            rows = self.paginator.paginate_tenant_rows(type(self), self.tenant.pk, request, plan)
        else:
            rows = self.paginator.paginate_rows(self.filter_queryset(self.get_queryset()), request, plan)
        return self.get_paginated_response(rows)

    def _whole_tenant(self, request) -> bool:
        """Whether this list is `queryset.for_tenant(tenant)` as TenantScopedViewSet narrows it, left
        alone by every filter backend, paginated as KeysetPagination does."""
        view_class = type(self)
        return (
            view_class.get_queryset is TenantScopedViewSet.get_queryset
            and view_class.filter_queryset is GenericAPIView.filter_queryset
            and type(self.paginator) is KeysetPagination
            and all(backend is ListFilterBackend and ListFilterBackend().leaves_alone(request, self)
                    for backend in self.filter_backends)
        )
