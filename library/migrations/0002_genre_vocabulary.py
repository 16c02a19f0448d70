from django.db import migrations

GENRES = [
    ("pop", "Pop"),
    ("rock", "Rock"),
    ("hip-hop", "Hip-Hop"),
    ("electronic", "Electronic"),
    ("jazz", "Jazz"),
    ("classical", "Classical"),
    ("r-and-b", "R&B"),
    ("country", "Country"),
    ("folk", "Folk"),
    ("metal", "Metal"),
    ("indie", "Indie"),
    ("ambient", "Ambient"),
    ("blues", "Blues"),
    ("reggae", "Reggae"),
    ("latin", "Latin"),
    ("soundtrack", "Soundtrack"),
    ("soul", "Soul"),
    ("punk", "Punk"),
]


def add_genres(apps, schema_editor):
    Genre = apps.get_model("library", "Genre")
    from musicapp.ids import new_object_id

    for slug, name in GENRES:
        Genre.objects.get_or_create(slug=slug, defaults={"name": name, "id": new_object_id()})


class Migration(migrations.Migration):
    """The starting genre vocabulary; staff extend it in the admin."""

    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(add_genres, migrations.RunPython.noop)]
