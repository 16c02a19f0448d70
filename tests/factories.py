import functools

import factory
from django.contrib.auth.hashers import make_password

from accounts.models import User

PASSWORD = "correct horse battery staple"


@functools.cache
def password_hash() -> str:
    """One real hash shared by every factory user: hashing is deliberately slow."""
    return make_password(PASSWORD)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"listener{n}@example.com")
    name = factory.Faker("name")
    is_email_verified = True
    password = factory.LazyFunction(password_hash)


class GenreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "library.Genre"
        django_get_or_create = ("slug",)

    slug = "rock"
    name = factory.LazyAttribute(lambda g: g.slug.title())


class ArtistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "library.Artist"

    name = factory.Sequence(lambda n: f"Artist {n}")


class AlbumFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "library.Album"

    name = factory.Sequence(lambda n: f"Album {n}")
    artist = factory.SubFactory(ArtistFactory)
    image = factory.Sequence(lambda n: f"local:covers/album{n}.webp")


class SongFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "library.Song"

    name = factory.Sequence(lambda n: f"Song {n}")
    file = factory.Sequence(lambda n: f"local:audio/song{n}.mp3")
    duration = 215.5
    album = factory.SubFactory(AlbumFactory)
    artist = factory.LazyAttribute(lambda s: s.album.artist if s.album else None)
    genre = factory.SubFactory(GenreFactory)
    track_number = factory.Sequence(lambda n: n + 1)


class PlaylistFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "playlists.Playlist"

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Playlist {n}")
