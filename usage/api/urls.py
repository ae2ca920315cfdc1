from django.urls import path

from usage.api.views import UsageEventsBatchView, UsageEventsView, UsageView

urlpatterns = [
    path("usage", UsageView.as_view(), name="usage"),
    path("usage/events", UsageEventsView.as_view(), name="usage-events"),
    path("usage/events/batch", UsageEventsBatchView.as_view(), name="usage-events-batch"),
]
