import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, UserFactory
from tests.support.jobs import run_pending_jobs


@pytest.fixture
def call(django_capture_on_commit_callbacks):
    """POST/PATCH/GET through the API with on-commit side effects (cache drops) and the jobs
    it queued (mail) run, as a worker would run them just after."""

    def _call(client: APIClient, method: str, path: str, data=None, **extra):
        if method != "get" and "format" not in extra:
            extra["format"] = "json"
        with django_capture_on_commit_callbacks(execute=True):
            response = getattr(client, method)(path, data, **extra)
        run_pending_jobs()
        return response

    return _call


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
