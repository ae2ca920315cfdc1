from django.urls import path

from usage.api.views import UsageEventsView, UsageView

urlpatterns = [
    path("usage", UsageView.as_view(), name="usage"),
    path("usage/events", UsageEventsView.as_view(), name="usage-events"),
]
