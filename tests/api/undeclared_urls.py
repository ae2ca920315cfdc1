from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as hub_urls


class ForgotToDeclare(APIView):
    def get(self, request):
        return Response({"leaked": True})


urlpatterns = [path("v1/test/undeclared", ForgotToDeclare.as_view()), path("", include(hub_urls))]
