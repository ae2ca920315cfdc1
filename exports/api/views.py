"""/v1/exports: ask for a tenant export, follow it, download the document."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from core.api.exceptions import Conflict
from core.api.viewsets import TenantScopedViewSet
from exports import selectors, services
from exports.models import ExportStatus, TenantExport


class ExportSerializer(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = TenantExport
        fields = ["id", "status", "download_url", "size_bytes", "error", "created_at", "started_at", "finished_at",
                  "expires_at"]
        read_only_fields = fields

    def get_download_url(self, export) -> str | None:
        if export.status != ExportStatus.DONE:
            return None
        return self.context["request"].build_absolute_uri(f"/v1/exports/{export.pk}/download")


@extend_schema(tags=["exports"])
class ExportViewSet(mixins.RetrieveModelMixin, TenantScopedViewSet):
    queryset = TenantExport.objects.defer("document")
    serializer_class = ExportSerializer
    tool_action = {"create": "tenant.export", "retrieve": "tenant.export", "download": "tenant.export"}
    schema_errors = {"download": {"409": "CONFLICT: the export is not done yet (details.status)."}}

    def get_queryset(self):
        return selectors.unexpired(super().get_queryset())

    @extend_schema(request=None, responses={201: ExportSerializer})
    def create(self, request):
        export = services.request_export(tenant=self.tenant, actor=request.user.actor)
        return Response(self.get_serializer(export).data, status=201)

    # The document itself, as a file: not in the {data} envelope.
    @extend_schema(responses={(200, "application/json"): OpenApiTypes.OBJECT}, extensions={"x-bare-body": True})
    @action(detail=True, methods=["get"], queryset=TenantExport.objects.all())
    def download(self, request, pk=None):
        export = self.get_object()
        if export.status != ExportStatus.DONE:
            raise Conflict("The export is not ready.", details={"status": export.status})
        services.record_download(export=export, actor=request.user.actor)
        response = HttpResponse(selectors.open_document(export), content_type="application/json")
        stamp = export.finished_at.strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="{self.tenant.slug}-export-{stamp}.json"'
        return response
