"""Public ids are 24-hex ObjectIds and primary keys (ids.py)."""

import pytest
from bson import ObjectId

from accounts.models import User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_new_rows_get_an_object_id():
    user = UserFactory()
    assert len(user.pk) == 24 and ObjectId.is_valid(user.pk)


def test_an_imported_id_is_kept():
    user = UserFactory(id="5f8d0d55b54764421b7156c9")
    assert User.objects.get(pk="5f8d0d55b54764421b7156c9") == user


def test_object_ids_survive_bulk_insert():
    # Django 5.2 bulk-inserts through UNNEST(%s::<type>[]); a bare char[] would truncate to 1 char.
    users = User.objects.bulk_create(UserFactory.build_batch(5))
    stored = set(User.objects.values_list("pk", flat=True))
    assert stored == {u.pk for u in users}
    assert all(len(pk) == 24 for pk in stored)
