"""The list filters every collection shares: status, q, createdAtFrom, createdAtTo."""

from datetime import UTC

import django_filters
from django import forms
from django.db.models import Q
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend

__all__ = ["ListFilterBackend", "ListFilterSet", "UtcDateTimeFilter"]


class _UtcDateTimeField(IsoDateTimeField):
    """ISO 8601 with any offset Python accepts, compared in UTC; never empty. PostgreSQL refuses offsets beyond
    ±15:59 (`-16:00` reached it and answered 500), and an instant too close to year 1 or 9999 has no
    UTC form: refused here as any other invalid date."""

    def to_python(self, value):
        if value == "":
            # Sent but empty (`?createdAtTo=`) is not a date-time; leaving the parameter out is.
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        parsed = super().to_python(value)
        if parsed is None:
            return None
        try:
            return parsed.astimezone(UTC)
        except OverflowError as exc:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from exc


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = _UtcDateTimeField


class ListFilterSet(django_filters.FilterSet):
    """Subclasses set `search_fields`, the columns `q` looks in (case-insensitive substring)."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", max_length=200)
    createdAtFrom = UtcDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdAtTo = UtcDateTimeFilter(field_name="created_at", lookup_expr="lt")

    @classmethod
    def leaves_alone(cls, params) -> bool:
        """Whether the set would hand the queryset back unchanged: no parameter can fill a filter (a
        widget of several inputs names them `<filter>_<suffix>`, hence the prefix), none is required,
        and the set filters the way django-filter does. Every filter then skips its empty value."""
        return (
            not any(key.startswith(name) for key in params for name in cls.base_filters)
            and not any(filter_.extra.get("required") for filter_ in cls.base_filters.values())
            and cls.qs is django_filters.FilterSet.qs
            and cls.filter_queryset is django_filters.FilterSet.filter_queryset
        )

    def get_form_class(self):
        # django-filter builds a new form class, every field and label, per request; a list's filters
        # are declared once per class, so one form class serves every request (half of a filter set's cost).
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def is_valid(self):
        # django-filter skips a filter sent empty (`?status=`, `?actor=`); the schema says what an
        # enum, id or date-time filter takes, and "" is none of it. A text filter sent empty (`q`,
        # `provider`) matches everything, as its schema (a string) allows.
        valid = super().is_valid()
        for name, filter_ in self.filters.items():
            if isinstance(filter_, django_filters.CharFilter) or name in self.form.errors:
                continue
            if self.data.get(name) == "":
                self.form.add_error(name, "Sent but empty: leave the parameter out instead.")
                valid = False
        return valid

    def search(self, queryset, _name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)


class ListFilterBackend(DjangoFilterBackend):
    """django-filter, minus the filter set (deep copies, form, validation: a fifth of a list's own
    time) for the usual request that names no filter."""

    def filter_queryset(self, request, queryset, view):
        if self.leaves_alone(request, view, queryset):
            return queryset
        return super().filter_queryset(request, queryset, view)

    def leaves_alone(self, request, view, queryset=None) -> bool:
        """Whether filtering `queryset` (by default the view's own) would hand it back unchanged."""
        filterset_class = self.get_filterset_class(view, view.queryset if queryset is None else queryset)
        if filterset_class is None:
            return True  # django-filter has nothing to filter with
        return issubclass(filterset_class, ListFilterSet) and filterset_class.leaves_alone(request.query_params)
