import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory


@pytest.fixture
def listener(db):
    return UserFactory(email="listener@example.com", name="Lena Listener")


@pytest.fixture
def sign_in(call):
    def _sign_in(user, password: str = PASSWORD) -> dict:
        response = call(APIClient(), "post", "/api/auth/login", {"email": user.email, "password": password})
        assert response.status_code == 200, response.content
        return response.json()

    return _sign_in
