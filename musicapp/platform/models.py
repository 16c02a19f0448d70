from django.db import models
from django.utils import timezone

from musicapp.platform.ids import ObjectIdField


class BaseModel(models.Model):
    """Every table: an ObjectId primary key and creation/update times.

    created_at defaults to now instead of auto_now_add so that imported records keep theirs.
    """

    id = ObjectIdField(primary_key=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True
