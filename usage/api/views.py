"""POST /v1/usage/events (products report) and GET /v1/usage (totals per action and period)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from core.api.exceptions import Unprocessable
from core.api.views import TenantScopedAPIView
from core.db.routers import replica_reads
from tenancy.selectors import entitled_actions
from usage.selectors import GRANULARITY, usage_totals
from usage.services import report_usage

MAX_REPORTED_COUNT = 1_000_000
# How far back a product may report: later than this, the hour it belongs to is considered closed.
MAX_REPORT_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)
MAX_RANGE = {"hour": timedelta(days=31), "day": timedelta(days=400), "month": timedelta(days=3 * 366)}


class UsageEventSerializer(serializers.Serializer):
    tool_action = serializers.CharField(max_length=150)
    count = serializers.IntegerField(min_value=1, max_value=MAX_REPORTED_COUNT, default=1)
    occurred_at = serializers.DateTimeField(required=False)
    event_id = serializers.CharField(max_length=255, required=False)


def _reported_at(occurred_at):
    """When the use happened: now when not said; refused (422: a rule about time the schema cannot
    state) in the future beyond clock skew, or in a period already closed."""
    now = timezone.now()
    if occurred_at is None:
        return now
    if occurred_at > now + CLOCK_SKEW:
        raise Unprocessable(details={"occurredAt": ["Cannot be in the future."]})
    if occurred_at < now - MAX_REPORT_AGE:
        raise Unprocessable(details={"occurredAt": ["Older than 7 days: that period is closed."]})
    return occurred_at


class UsageTotalSerializer(serializers.Serializer):
    tool_action = serializers.CharField()
    period_start = serializers.DateTimeField()
    period_end = serializers.DateTimeField()
    count = serializers.IntegerField()


class UsageReportedSerializer(serializers.Serializer):
    tool_action = serializers.CharField()
    count = serializers.IntegerField()
    occurred_at = serializers.DateTimeField()
    duplicate = serializers.BooleanField(help_text="True when the event id was counted before (200).")


class UsageQuerySerializer(serializers.Serializer):
    granularity = serializers.ChoiceField(choices=list(GRANULARITY), default="day")
    tool_action = serializers.CharField(max_length=150, required=False, allow_blank=True)  # empty: every action
    # "from" is a keyword: read from the query string by name below.
    start = serializers.DateTimeField(required=False)
    end = serializers.DateTimeField(required=False)


@extend_schema(tags=["usage"])
class UsageView(TenantScopedAPIView):
    tool_action = {"get": "usage.read"}
    schema_errors = {"get": {"422": "UNPROCESSABLE: the window is too long for its granularity."}}

    @extend_schema(
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATETIME, description="Inclusive; default: 30 days ago."),
            OpenApiParameter("to", OpenApiTypes.DATETIME, description="Exclusive; default: now."),
            OpenApiParameter("granularity", OpenApiTypes.STR, enum=list(GRANULARITY)),
            OpenApiParameter("toolAction", OpenApiTypes.STR),
        ],
        responses=UsageTotalSerializer(many=True),
    )
    @replica_reads()
    def get(self, request):
        params = request.query_params
        query = UsageQuerySerializer(data={k: v for k, v in {
            "granularity": params.get("granularity", "day"),
            "tool_action": params.get("toolAction"),
            "start": params.get("from"),
            "end": params.get("to"),
        }.items() if v is not None})
        query.is_valid(raise_exception=True)
        data = query.validated_data
        granularity = data["granularity"]
        end = data.get("end") or timezone.now()
        start = data.get("start") or end - timedelta(days=30)
        if start >= end:
            return Response([])  # an empty window holds nothing, as a list filtered the same way would
        if end - start > MAX_RANGE[granularity]:
            raise Unprocessable(details={"granularity": [f"Range too long for {granularity} buckets."]})
        return Response(usage_totals(tenant=self.tenant, start=start, end=end, granularity=granularity,
                                     tool_action=data.get("tool_action") or None))


@extend_schema(tags=["usage"])
class UsageEventsView(TenantScopedAPIView):
    tool_action = {"post": "usage.report"}
    schema_errors = {"post": {"422": "UNPROCESSABLE: the action is not available to the tenant, or occurredAt is "
                                     "in the future or in a closed period."}}

    @extend_schema(request=UsageEventSerializer, responses={201: UsageReportedSerializer, 200: UsageReportedSerializer})
    def post(self, request):
        data = self.validated(UsageEventSerializer)
        key = data["tool_action"]
        if not entitled_actions(self.tenant).filter(key=key).exists():
            raise Unprocessable(details={"toolAction": [f"\"{key}\" is not available to this tenant."]})
        occurred_at = _reported_at(data.get("occurred_at"))
        counted = report_usage(tenant=self.tenant, action_key=key, count=data["count"], occurred_at=occurred_at,
                               event_id=data.get("event_id"))
        body = {"tool_action": key, "count": data["count"], "occurred_at": occurred_at, "duplicate": not counted}
        return Response(body, status=201 if counted else 200)
