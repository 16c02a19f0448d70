"""Staff manage the catalog here: uploads are checked by content before anything is stored,
and every save or delete goes through library.services (media store, cache, cleanup)."""

from pathlib import Path

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Count

from library import lrc, services
from library.audio import check_audio
from library.models import Album, Artist, Genre, Lyrics, Song
from musicapp.adapters import media
from musicapp.platform.errors import DomainError


def checked(fn, upload, **kwargs):
    """Run a media check, turning its domain error into a form error."""
    if not upload:
        return None
    try:
        return fn(upload, **kwargs)
    except DomainError as exc:
        raise forms.ValidationError(exc.message.split(": ", 1)[-1]) from exc


def check_cover(upload):
    return checked(media.check_image, upload, field="image", max_bytes=settings.COVER_MAX_BYTES)


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleAudioField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else [data] if data else []
        checked_files = []
        for upload in files:
            try:
                checked_files.append((Path(upload.name).stem, checked(check_audio, upload)))
            except forms.ValidationError as exc:
                raise forms.ValidationError(f"{upload.name}: {exc.messages[0]}") from exc
        return checked_files


class CatalogAdmin(admin.ModelAdmin):
    """Deletes (one or in bulk) remove the rows' files too, and retire cached responses."""

    def delete_model(self, request, obj):
        services.catalog_delete(queryset=type(obj).objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        services.catalog_delete(queryset=queryset)


# --- artists ------------------------------------------------------------------------------


class ArtistForm(forms.ModelForm):
    image_upload = forms.FileField(required=False, label="Image", help_text="JPEG, PNG or WebP, up to 5 MB.")

    class Meta:
        model = Artist
        fields = ["name", "bio"]

    def clean_image_upload(self):
        return check_cover(self.cleaned_data.get("image_upload"))


@admin.register(Artist)
class ArtistAdmin(CatalogAdmin):
    form = ArtistForm
    list_display = ("name", "album_count", "created_at")
    search_fields = ("name",)
    readonly_fields = ("id", "image", "created_at")

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(album_total=Count("albums"))

    @admin.display(ordering="album_total", description="albums")
    def album_count(self, artist):
        return artist.album_total

    def save_model(self, request, obj, form, change):
        services.artist_save(artist=obj, image=form.cleaned_data.get("image_upload"))


# --- albums -------------------------------------------------------------------------------


class AlbumForm(forms.ModelForm):
    cover_upload = forms.FileField(required=False, label="Cover", help_text="JPEG, PNG or WebP, up to 5 MB.")
    audio_files = MultipleAudioField(
        required=False,
        label="Add songs",
        help_text="Audio files become songs of this album, in the order given "
        "(track numbers and titles from their tags when present).",
    )

    class Meta:
        model = Album
        fields = ["name", "desc", "artist", "release_date", "bg_colour"]

    def clean_cover_upload(self):
        return check_cover(self.cleaned_data.get("cover_upload"))


class AlbumSongInline(admin.TabularInline):
    model = Song
    fields = ("track_number", "name", "duration", "genre")
    readonly_fields = ("duration",)
    extra = 0
    show_change_link = True
    ordering = ("track_number", "created_at")

    def has_add_permission(self, request, obj=None):
        return False  # songs need audio: add them with "Add songs" above, or on the song page


@admin.register(Album)
class AlbumAdmin(CatalogAdmin):
    form = AlbumForm
    inlines = [AlbumSongInline]
    list_display = ("name", "artist", "release_date", "song_count", "created_at")
    list_filter = ("artist",)
    list_select_related = ("artist",)
    search_fields = ("name", "artist__name")
    readonly_fields = ("id", "image", "created_at")
    autocomplete_fields = ("artist",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(song_total=Count("songs"))

    @admin.display(ordering="song_total", description="songs")
    def song_count(self, album):
        return album.song_total

    def save_model(self, request, obj, form, change):
        services.album_save(album=obj, cover=form.cleaned_data.get("cover_upload"))

    def save_formset(self, request, form, formset, change):
        if formset.model is not Song:
            return super().save_formset(request, form, formset, change)
        for song in formset.save(commit=False):  # track numbers, names, genres edited in the list
            services.song_save(song=song)
        if formset.deleted_objects:
            services.catalog_delete(queryset=Song.objects.filter(pk__in=[s.pk for s in formset.deleted_objects]))
        return None

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        album = form.instance
        taken = set(album.songs.exclude(track_number=None).values_list("track_number", flat=True))
        next_track = max(taken, default=0) + 1
        for name, audio in form.cleaned_data.get("audio_files") or []:
            track = audio.track_number if audio.track_number and audio.track_number not in taken else next_track
            taken.add(track)
            next_track = max(taken) + 1
            services.song_save(
                song=Song(name=audio.title or name, album=album, artist=album.artist, track_number=track), audio=audio
            )
        if form.cleaned_data.get("audio_files"):
            messages.success(request, f"Added {len(form.cleaned_data['audio_files'])} song(s).")


# --- songs --------------------------------------------------------------------------------


class SongForm(forms.ModelForm):
    audio_upload = forms.FileField(
        required=False, label="Audio", help_text="MP3, M4A/AAC, Ogg, FLAC or WAV; the duration is read from it."
    )
    cover_upload = forms.FileField(
        required=False, label="Cover", help_text="Optional: the album's cover is used when empty."
    )

    class Meta:
        model = Song
        fields = ["name", "desc", "album", "artist", "genre", "track_number"]

    def clean_audio_upload(self):
        audio = checked(check_audio, self.cleaned_data.get("audio_upload"))
        if audio is None and not self.instance.file:
            raise forms.ValidationError("A song needs its audio file.")
        return audio

    def clean_cover_upload(self):
        return check_cover(self.cleaned_data.get("cover_upload"))


class LyricsForm(forms.ModelForm):
    class Meta:
        model = Lyrics
        fields = ["plain", "synced_lrc"]

    def clean_synced_lrc(self):
        text = self.cleaned_data.get("synced_lrc", "")
        if text.strip():
            try:
                lrc.parse(text)
            except lrc.LrcError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return text


class LyricsInline(admin.StackedInline):
    model = Lyrics
    form = LyricsForm
    extra = 0
    max_num = 1


@admin.register(Song)
class SongAdmin(CatalogAdmin):
    form = SongForm
    inlines = [LyricsInline]
    list_display = ("name", "artist", "album", "track_number", "genre", "duration", "created_at")
    list_filter = ("genre", "artist", "album")
    list_select_related = ("artist", "album", "genre")
    search_fields = ("name", "artist__name", "album__name")
    readonly_fields = ("id", "file", "image", "duration", "created_at")
    autocomplete_fields = ("album", "artist")

    def save_model(self, request, obj, form, change):
        services.song_save(
            song=obj, audio=form.cleaned_data.get("audio_upload"), cover=form.cleaned_data.get("cover_upload")
        )

    def save_formset(self, request, form, formset, change):
        for lyrics in formset.save(commit=False):
            lyrics.song = form.instance
            services.lyrics_save(lyrics=lyrics)
        for lyrics in formset.deleted_objects:
            services.lyrics_delete(lyrics=lyrics)


@admin.register(Genre)
class GenreAdmin(CatalogAdmin):
    """Songs show their genre's name, so any change retires the cached catalog."""

    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}

    def save_model(self, request, obj, form, change):
        services.genre_save(genre=obj)
