"""POST /v1/usage/events and /v1/usage/events/batch (products report) and GET /v1/usage (totals per
action and period)."""

from datetime import timedelta

from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, OpenApiTypes, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from catalog.selectors import tool_actions
from core.api.access import PRODUCT_IN_TENANT
from core.api.exceptions import ForbiddenAction, Unprocessable
from core.api.views import TenantScopedAPIView
from core.db.routers import replica_reads
from tenancy.selectors import entitled_actions
from usage.selectors import GRANULARITY, usage_totals
from usage.services import UsageReport, report_usage

MAX_REPORTED_COUNT = 1_000_000
MAX_BATCH = 100
# How far back a product may report: later than this, the hour it belongs to is considered closed.
MAX_REPORT_AGE = timedelta(days=7)
CLOCK_SKEW = timedelta(minutes=5)
MAX_RANGE = {"hour": timedelta(days=31), "day": timedelta(days=400), "month": timedelta(days=3 * 366)}


class UsageEventSerializer(serializers.Serializer):
    tool_action = serializers.CharField(max_length=150)
    count = serializers.IntegerField(min_value=1, max_value=MAX_REPORTED_COUNT, default=1)
    occurred_at = serializers.DateTimeField(required=False)
    event_id = serializers.CharField(max_length=255, required=False)


class UsageBatchSerializer(serializers.Serializer):
    events = UsageEventSerializer(many=True, min_length=1, max_length=MAX_BATCH)


def _time_problem(occurred_at, now) -> str | None:
    """Why a report's time is refused (422: a rule about time the schema cannot state): in the future
    beyond clock skew, or in a period already closed."""
    if occurred_at is None:
        return None
    if occurred_at > now + CLOCK_SKEW:
        return "Cannot be in the future."
    if occurred_at < now - MAX_REPORT_AGE:
        return "Older than 7 days: that period is closed."
    return None


def _reports(principal, events: list[dict]) -> tuple[list[UsageReport], dict]:
    """The events as they are counted (occurredAt now when not said), and what refuses each event
    that cannot be, by its position: all are refused together or none is. A product reports its own
    tool's actions only: another refuses them all with 403 FORBIDDEN_ACTION."""
    keys = {event["tool_action"] for event in events}
    if principal.product_credential is not None:
        foreign = sorted(keys - tool_actions(principal.tool, principal.cache_reads))
        if foreign:
            raise ForbiddenAction(f"A product reports only its own tool's actions ({principal.tool.key}).",
                                  details={"toolAction": foreign[0]})
    available = set(entitled_actions(principal.tenant).filter(key__in=keys).values_list("key", flat=True))
    now, reports, problems = timezone.now(), [], {}
    for position, event in enumerate(events):
        key, occurred_at = event["tool_action"], event.get("occurred_at")
        found = {}
        if key not in available:
            found["toolAction"] = [f"\"{key}\" is not available to this tenant."]
        if problem := _time_problem(occurred_at, now):
            found["occurredAt"] = [problem]
        if found:
            problems[position] = found
        reports.append(UsageReport(action_key=key, count=event["count"], occurred_at=occurred_at or now,
                                   event_id=event.get("event_id")))
    return reports, problems


def _reported(report: UsageReport, counted: bool) -> dict:
    return {"tool_action": report.action_key, "count": report.count, "occurred_at": report.occurred_at,
            "duplicate": not counted}


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


_UNPROCESSABLE_REPORT = ("UNPROCESSABLE: the action is not available to the tenant, or occurredAt is in the future "
                         "or in a closed period")
_PRODUCT_REPORT = {"403": "FORBIDDEN_ACTION: (product credentials) an action of another tool than the product's "
                          "(details.toolAction); TOOL_NOT_ENTITLED: the tenant does not hold the product's tool."}
_AS_PRODUCT = ("A product credential (`Bearer aza8p_…`) names the tenant with `X-Tenant-Id` and reports its own "
               "tool's actions only.")


@extend_schema(tags=["usage"])
class UsageEventsView(TenantScopedAPIView):
    tool_action = {"post": "usage.report"}
    product_access = {"post": PRODUCT_IN_TENANT}
    schema_errors = {"post": {"422": f"{_UNPROCESSABLE_REPORT}.", **_PRODUCT_REPORT}}

    @extend_schema(request=UsageEventSerializer, responses={201: UsageReportedSerializer, 200: UsageReportedSerializer},
                   description=f"Report uses of an action (201; 200 when its eventId was counted before). {_AS_PRODUCT}")
    def post(self, request):
        (reports, problems) = _reports(request.user, [self.validated(UsageEventSerializer)])
        if problems:
            raise Unprocessable(details=problems[0])
        (counted,) = report_usage(tenant=self.tenant, reports=reports)
        return Response(_reported(reports[0], counted), status=201 if counted else 200)


class UsageBatchResultSerializer(serializers.Serializer):
    results = UsageReportedSerializer(many=True, help_text="One per event, in the order sent.")


@extend_schema(tags=["usage"])
class UsageEventsBatchView(TenantScopedAPIView):
    tool_action = {"post": "usage.report"}
    product_access = {"post": PRODUCT_IN_TENANT}
    schema_errors = {"post": {"422": f"{_UNPROCESSABLE_REPORT} (details.events.<index>): then no event is "
                                     "counted.", **_PRODUCT_REPORT}}

    @extend_schema(request=UsageBatchSerializer, responses=UsageBatchResultSerializer,
                   summary=f"Report up to {MAX_BATCH} uses at once, all or none", description=_AS_PRODUCT)
    def post(self, request):
        reports, problems = _reports(request.user, self.validated(UsageBatchSerializer)["events"])
        if problems:
            raise Unprocessable(details={"events": problems})
        counted = report_usage(tenant=self.tenant, reports=reports)
        return Response({"results": [_reported(*pair) for pair in zip(reports, counted, strict=True)]})
