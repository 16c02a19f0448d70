from django.contrib.postgres.operations import TrigramExtension, UnaccentExtension
from django.db import migrations


class Migration(migrations.Migration):
    """The local search backend's extensions: trigram similarity (typos) and accent folding."""

    dependencies = []
    operations = [TrigramExtension(), UnaccentExtension()]
