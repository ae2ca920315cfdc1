"""The list filters every collection shares: status, q, createdAtFrom, createdAtTo."""

import django_filters
from django.db.models import Q

__all__ = ["ListFilterSet"]


class ListFilterSet(django_filters.FilterSet):
    """Subclasses set `search_fields`, the columns `q` looks in (case-insensitive substring)."""

    search_fields: tuple[str, ...] = ()

    q = django_filters.CharFilter(method="search", max_length=200)
    createdAtFrom = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="gte")
    createdAtTo = django_filters.IsoDateTimeFilter(field_name="created_at", lookup_expr="lt")

    def get_form_class(self):
        # django-filter builds a new form class, every field and label, per request; a list's filters
        # are declared once per class, so one form class serves every request (a fifth of a list's time).
        cls = type(self)
        if "_form_class" not in cls.__dict__:
            cls._form_class = super().get_form_class()
        return cls._form_class

    def search(self, queryset, _name, value):
        condition = Q()
        for field in self.search_fields:
            condition |= Q(**{f"{field}__icontains": value})
        return queryset.filter(condition)
