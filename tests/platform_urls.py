"""Views that exist only for the platform tests: they exercise the API conventions
(envelope, camelCase, pagination, throttling) before any product endpoint relies on them."""

from django.core.cache import cache
from django.urls import path
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from musicapp.platform.errors import Conflict, all_error_classes
from musicapp.platform.pagination import KeysetPagination
from musicapp.urls import handler400, handler403, handler404, handler500  # noqa: F401 - Django looks here
from musicapp.urls import urlpatterns as project_urlpatterns


class EqualizerSerializer(serializers.Serializer):
    preset_name = serializers.CharField()
    bands = serializers.ListField(
        child=serializers.FloatField(min_value=-12, max_value=12), min_length=10, max_length=10
    )


class EchoSerializer(serializers.Serializer):
    play_duration = serializers.IntegerField(min_value=0)
    context_type = serializers.ChoiceField(choices=["album", "playlist"])
    is_public = serializers.BooleanField()
    equalizer = EqualizerSerializer(required=False)


class EchoView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        serializer = EchoSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return Response({"success": True, "echo": serializer.validated_data})


class CrashView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internal detail")


class ConflictView(APIView):
    permission_classes = [AllowAny]

    def post(self, request):
        raise Conflict("That song is already in the playlist.")


class RaiseView(APIView):
    """Raises the DomainError subclass named in ?error= (every code's way to the client)."""

    permission_classes = [AllowAny]

    def get(self, request):
        raise {cls.__name__: cls for cls in all_error_classes()}[request.query_params["error"]]()


class CacheView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"success": True, "value": cache.get("anything")})


class BigView(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        size = int(request.query_params.get("size", 5000))
        return Response({"success": True, "text": "x" * size})


class UserRowSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "created_at"]


class UserListView(generics.ListAPIView):
    serializer_class = UserRowSerializer
    pagination_class = KeysetPagination.named("users")
    queryset = User.objects.all()


class WhoAmIView(APIView):
    def get(self, request):
        return Response({"success": True, "user_id": request.user.pk})


urlpatterns = [
    path("test/echo", EchoView.as_view()),
    path("test/crash", CrashView.as_view()),
    path("test/conflict", ConflictView.as_view()),
    path("test/raise", RaiseView.as_view()),
    path("test/cache", CacheView.as_view()),
    path("test/big", BigView.as_view()),
    path("test/users", UserListView.as_view()),
    path("test/whoami", WhoAmIView.as_view()),
    *project_urlpatterns,
]
