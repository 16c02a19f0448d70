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
