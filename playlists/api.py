"""The Playlists section of API.md: parse, call a service, render."""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.views import APIView

from musicapp.platform import scoped_cache
from musicapp.platform.errors import NotAllowed
from musicapp.platform.pagination import KeysetPagination
from musicapp.platform.responses import cached_ok, cached_ok_for_user, envelope_schema, ok, validated
from musicapp.platform.schema import ERROR, list_schema
from playlists import services
from playlists.models import Playlist, PlaylistInvitation
from playlists.serializers import (
    AddSongInput,
    BannerInput,
    CollaboratorInput,
    InvitationSerializer,
    PendingInvitationSerializer,
    PlaylistDetailSerializer,
    PlaylistInput,
    PlaylistPatchInput,
    PlaylistSerializer,
    ReorderInput,
)

PLAYLIST = envelope_schema("PlaylistResponse", playlist=PlaylistDetailSerializer())
MESSAGE = envelope_schema("PlaylistMessage", message=serializers.CharField())


def fresh(playlist_id: str) -> dict:
    """The playlist as just written (a write's response never comes from the cache)."""
    return PlaylistDetailSerializer(Playlist.objects.for_api().get(pk=playlist_id)).data


def detail(playlist_id: str) -> dict:
    """The playlist with its songs, cached until the playlist next changes."""
    return scoped_cache.cached(f"playlist:{playlist_id}", "detail", lambda: fresh(playlist_id))


class ListPage:
    pagination_class: type[KeysetPagination]

    def page(self, request, queryset) -> dict:
        return self.pagination_class().page_payload(queryset.for_api(), request, PlaylistSerializer)


@extend_schema(tags=["playlists"], **list_schema("playlists", PlaylistSerializer()))
class MyPlaylistsView(ListPage, APIView):
    pagination_class = KeysetPagination.named("playlists")

    def get(self, request):
        build = lambda: self.page(request, Playlist.objects.of_member(request.user))  # noqa: E731
        return cached_ok_for_user(request.user.pk, "playlists", request.get_full_path(), build)


@extend_schema(tags=["playlists"], **list_schema("playlists", PlaylistSerializer()))
class PublicPlaylistsView(ListPage, APIView):
    permission_classes = [AllowAny]
    authentication_classes = []
    pagination_class = KeysetPagination.named("playlists")

    def get(self, request):
        build = lambda: self.page(request, Playlist.objects.filter(is_public=True))  # noqa: E731
        return cached_ok("public_playlists", request.get_full_path(), build)


class CreatePlaylistView(APIView):
    @extend_schema(tags=["playlists"], request=PlaylistInput, responses={201: PLAYLIST})
    def post(self, request):
        playlist = services.playlist_create(owner=request.user, **validated(PlaylistInput, request))
        return ok(201, playlist=fresh(playlist.pk))


class PlaylistView(APIView):
    def get_permissions(self):
        # Reading a public playlist needs no account; everything else does.
        return [AllowAny()] if self.request.method == "GET" else [IsAuthenticated()]

    @extend_schema(tags=["playlists"], responses={200: PLAYLIST})
    def get(self, request, playlist_id):
        services.get_readable(playlist_id, request.user)  # 404 for what the caller may not see
        return ok(playlist=detail(playlist_id))

    @extend_schema(tags=["playlists"], request=PlaylistPatchInput, responses={200: PLAYLIST, 403: ERROR})
    def patch(self, request, playlist_id):
        services.playlist_update(playlist_id=playlist_id, user=request.user, **validated(PlaylistPatchInput, request))
        return ok(playlist=fresh(playlist_id))

    @extend_schema(tags=["playlists"], responses={200: MESSAGE, 403: ERROR})
    def delete(self, request, playlist_id):
        services.playlist_delete(playlist_id=playlist_id, user=request.user)
        return ok(message="Playlist deleted.")


class BannerView(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        tags=["playlists"], request={"multipart/form-data": BannerInput}, responses={200: PLAYLIST, 403: ERROR}
    )
    def post(self, request, playlist_id):
        services.playlist_set_banner(playlist_id=playlist_id, user=request.user, upload=request.FILES.get("banner"))
        return ok(playlist=fresh(playlist_id))


class PlaylistSongsView(APIView):
    @extend_schema(tags=["playlists"], request=AddSongInput, responses={200: PLAYLIST, 403: ERROR, 409: ERROR})
    def post(self, request, playlist_id):
        services.playlist_song_add(playlist_id=playlist_id, user=request.user, **validated(AddSongInput, request))
        return ok(playlist=fresh(playlist_id))


class PlaylistSongView(APIView):
    @extend_schema(tags=["playlists"], responses={200: PLAYLIST, 403: ERROR})
    def delete(self, request, playlist_id, song_id):
        services.playlist_song_remove(playlist_id=playlist_id, user=request.user, song_id=song_id)
        return ok(playlist=fresh(playlist_id))


class ReorderView(APIView):
    @extend_schema(tags=["playlists"], request=ReorderInput, responses={200: PLAYLIST, 403: ERROR, 409: ERROR})
    def put(self, request, playlist_id):
        services.playlist_reorder(playlist_id=playlist_id, user=request.user, **validated(ReorderInput, request))
        return ok(playlist=fresh(playlist_id))


INVITED = envelope_schema("InvitedResponse", playlist=PlaylistDetailSerializer(), message=serializers.CharField())
INVITATIONS = envelope_schema("InvitationsResponse", invitations=InvitationSerializer(many=True))
OWNER_INVITATIONS = envelope_schema("PlaylistInvitationsResponse", invitations=PendingInvitationSerializer(many=True))


class CollaboratorsView(APIView):
    @extend_schema(
        tags=["playlists"],
        summary="Invite a collaborator by email",
        description=(
            "Owner only. Sends an invitation to the address; the invitee joins by accepting it "
            "(POST /api/playlist/invitations/<id>/accept) once signed in with that address. The "
            "answer is the same whether or not the address has an account."
        ),
        request=CollaboratorInput,
        responses={200: INVITED, 403: ERROR},
    )
    def post(self, request, playlist_id):
        email = validated(CollaboratorInput, request)["email"]
        services.collaborator_invite(playlist_id=playlist_id, user=request.user, email=email)
        return ok(
            playlist=fresh(playlist_id),
            message=f"Invitation sent to {email}. They join the playlist once they accept it.",
        )

    @extend_schema(tags=["playlists"], summary="Pending invitations (owner)", responses={200: OWNER_INVITATIONS})
    def get(self, request, playlist_id):
        playlist = services.get_readable(playlist_id, request.user)
        if playlist.owner_id != request.user.pk:
            raise NotAllowed("Only the playlist's owner sees its invitations.")
        invitations = PlaylistInvitation.objects.pending().filter(playlist=playlist).order_by("-created_at")
        return ok(invitations=PendingInvitationSerializer(invitations, many=True).data)


class PlaylistInvitationView(APIView):
    @extend_schema(
        tags=["playlists"],
        operation_id="playlist_invitation_cancel",
        summary="Take an invitation back (owner)",
        responses={200: MESSAGE, 403: ERROR},
    )
    def delete(self, request, playlist_id, invitation_id):
        services.invitation_cancel(playlist_id=playlist_id, user=request.user, invitation_id=invitation_id)
        return ok(message="Invitation cancelled.")


class MyInvitationsView(APIView):
    @extend_schema(
        tags=["playlists"], summary="Invitations to collaborate, for the caller", responses={200: INVITATIONS}
    )
    def get(self, request):
        invitations = PlaylistInvitation.objects.for_invitee(request.user).order_by("-created_at")
        return ok(invitations=InvitationSerializer(invitations, many=True).data)


class InvitationAcceptView(APIView):
    @extend_schema(tags=["playlists"], summary="Accept an invitation", request=None, responses={200: PLAYLIST})
    def post(self, request, invitation_id):
        playlist = services.invitation_accept(invitation_id=invitation_id, user=request.user)
        return ok(playlist=fresh(playlist.pk))


class InvitationView(APIView):
    @extend_schema(
        tags=["playlists"], operation_id="invitation_decline", summary="Decline an invitation", responses={200: MESSAGE}
    )
    def delete(self, request, invitation_id):
        services.invitation_decline(invitation_id=invitation_id, user=request.user)
        return ok(message="Invitation declined.")


class CollaboratorView(APIView):
    @extend_schema(tags=["playlists"], responses={200: PLAYLIST, 403: ERROR})
    def delete(self, request, playlist_id, user_id):
        playlist = services.collaborator_remove(playlist_id=playlist_id, user=request.user, collaborator_id=user_id)
        if not services.can_read(playlist, request.user):  # a collaborator who left a private playlist
            return ok(message="You left the playlist.")
        return ok(playlist=fresh(playlist_id))
