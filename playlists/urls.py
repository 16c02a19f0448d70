from django.urls import path

import musicapp.platform.converters  # noqa: F401 - registers <oid:...>
from playlists import api

urlpatterns = [
    path("playlist", api.CreatePlaylistView.as_view(), name="playlist-create"),
    path("playlist/list", api.MyPlaylistsView.as_view(), name="playlist-list"),
    path("playlist/public", api.PublicPlaylistsView.as_view(), name="playlist-public"),
    path("playlist/invitations", api.MyInvitationsView.as_view(), name="playlist-invitations"),
    path("playlist/invitations/<oid:invitation_id>", api.InvitationView.as_view(), name="playlist-invitation"),
    path(
        "playlist/invitations/<oid:invitation_id>/accept",
        api.InvitationAcceptView.as_view(),
        name="playlist-invitation-accept",
    ),
    path("playlist/<oid:playlist_id>", api.PlaylistView.as_view(), name="playlist-detail"),
    path("playlist/<oid:playlist_id>/banner", api.BannerView.as_view(), name="playlist-banner"),
    path("playlist/<oid:playlist_id>/songs", api.PlaylistSongsView.as_view(), name="playlist-songs"),
    path("playlist/<oid:playlist_id>/songs/<oid:song_id>", api.PlaylistSongView.as_view(), name="playlist-song"),
    path("playlist/<oid:playlist_id>/order", api.ReorderView.as_view(), name="playlist-order"),
    path("playlist/<oid:playlist_id>/collaborators", api.CollaboratorsView.as_view(), name="playlist-collaborators"),
    path(
        "playlist/<oid:playlist_id>/invitations/<oid:invitation_id>",
        api.PlaylistInvitationView.as_view(),
        name="playlist-invitation-cancel",
    ),
    path(
        "playlist/<oid:playlist_id>/collaborators/<oid:user_id>",
        api.CollaboratorView.as_view(),
        name="playlist-collaborator",
    ),
]
