"""The real URLs plus routes that fail on purpose, for the error-envelope tests."""

from django.db import connection
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from config import urls as hub_urls
from core.api.access import PUBLIC

LEAKED_SECRET = "aza8_deadbeef_topsecretvalue"


class ExplodingView(APIView):
    authentication_classes = []
    tool_action = PUBLIC

    def get(self, request):
        raise RuntimeError(f"boom with {LEAKED_SECRET} in the message")



class ExplodingForUserView(APIView):
    """Fails after authentication and the permission check, as a bug in a real route would."""

    tool_action = "users.read"

    def get(self, request):
        raise RuntimeError(f"boom for a user with {LEAKED_SECRET} in the message")


class DatabaseFailingView(ExplodingView):
    def get(self, request):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM table_that_does_not_exist")


class LostConnectionView(ExplodingView):
    def get(self, request):
        with connection.cursor() as cursor:
            # Ends this very backend, as a database restart or an operator would.
            cursor.execute("SELECT pg_terminate_backend(pg_backend_pid())")


class EchoView(ExplodingView):
    def post(self, request):
        return Response({"received": request.data}, status=201)


def exploding_plain_view(request):
    raise RuntimeError(f"plain boom with {LEAKED_SECRET}")


urlpatterns = [
    path("v1/test/explode", ExplodingView.as_view()),
    path("v1/test/explode-plain", exploding_plain_view),
    path("v1/test/explode-for-user", ExplodingForUserView.as_view()),
    path("v1/test/database", DatabaseFailingView.as_view()),
    path("v1/test/lost-connection", LostConnectionView.as_view()),
    path("v1/test/echo", EchoView.as_view()),
    path("", include(hub_urls)),
]
