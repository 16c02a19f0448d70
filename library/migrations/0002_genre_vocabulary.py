from django.db import migrations


def add_genres(apps, schema_editor):
    from library.genres import ensure_genres

    ensure_genres(apps.get_model("library", "Genre"))


class Migration(migrations.Migration):
    """The starting genre vocabulary; staff extend it in the admin."""

    dependencies = [("library", "0001_initial")]
    operations = [migrations.RunPython(add_genres, migrations.RunPython.noop)]
