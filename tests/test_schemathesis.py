"""schemathesis over the whole published schema (/api/schema), anonymous and signed in, with
all its checks: every answer is documented (status, content type, shape), invalid input is
refused, valid input accepted. In-process through Django's WSGI app, on the real PostgreSQL
and Redis. `make fuzz` runs the same at a larger size (SCHEMATHESIS_EXAMPLES, new examples each
run) and fails if fewer than FUZZ_MIN_REQUESTS requests went through the app.

Settings: tests/schemathesis_config.toml (why some operations may answer 400 to input no
schema can judge).
"""

import json
import os
from pathlib import Path

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck, settings
from rest_framework_simplejwt.tokens import AccessToken
from schemathesis.config import SchemathesisConfig

from accounts.models import User
from tests.factories import UserFactory

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "8"))
# In the suite the same examples every run (a failure reproduces); `make fuzz` explores anew.
RANDOM = os.environ.get("SCHEMATHESIS_RANDOM", "") == "1"
CONFIG = (Path(__file__).parent / "schemathesis_config.toml").read_text()
MIN_REQUESTS = int(os.environ.get("FUZZ_MIN_REQUESTS", "0"))  # `make fuzz`: 20,000
WSGI = get_wsgi_application()
SENT = {"requests": 0}


def APP(environ, start_response):
    SENT["requests"] += 1
    return WSGI(environ, start_response)


def published_schema() -> dict:
    """What GET /api/schema serves, made by drf-spectacular directly. Collection must not send a
    request through the app: one opened the database pool on the development database before
    pytest-django switched to the test one, and later tests wrote there."""
    schema = SchemaGenerator().get_schema(request=None, public=True)
    return json.loads(OpenApiJsonRenderer().render(schema))


def load():
    schema = schemathesis.openapi.from_dict(published_schema(), config=SchemathesisConfig.from_str(CONFIG))
    schema.app = APP  # requests go in-process through the WSGI app, the checks' own probes included
    return schema


anonymous, signed_in = load(), load()


def _headers(case) -> dict:
    # The in-process WSGI client does not undo gzip; a real client does.
    return {**(case.headers or {}), "Accept-Encoding": "identity"}


@signed_in.auth(refresh_interval=None)
class SignedIn:
    """A listener of this test's database (each test starts empty, so one is made when needed)."""

    user_id: str | None = None
    in_test = False  # schemathesis asks once at collection too, when no test may touch the database

    def get(self, case, ctx):
        if not SignedIn.in_test:
            return None
        if not (self.user_id and User.objects.filter(pk=self.user_id).exists()):
            SignedIn.user_id = UserFactory().pk
        return str(AccessToken.for_user(User.objects.get(pk=self.user_id)))

    def set(self, case, token, ctx):
        case.headers = {**_headers(case), "Authorization": f"Bearer {token}"}


for schema in (anonymous, signed_in):

    @schema.hook
    def map_query(ctx, query):
        # A cursor is a value this API hands out (nextCursor), never one a client makes up; forged
        # ones are refused with a 400 (tests/test_api_platform.py).
        if query:
            query.pop("cursor", None)
        return query


@pytest.fixture(autouse=True, scope="module")
def _requests_counted(request):
    yield
    request.config.get_terminal_writer().line(f"\nschemathesis sent {SENT['requests']:,} requests through the app")
    if SENT["requests"] < MIN_REQUESTS:
        pytest.fail(f"schemathesis sent {SENT['requests']:,} requests, fewer than FUZZ_MIN_REQUESTS={MIN_REQUESTS:,}")


@pytest.fixture(autouse=True)
def _signed_in_may_make_a_user():
    SignedIn.in_test = True
    yield
    SignedIn.in_test = False


def _checked(case) -> None:
    case.headers = _headers(case)
    case.call_and_validate()


SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), derandomize=not RANDOM, database=None
)


@anonymous.parametrize()
@SETTINGS
@pytest.mark.django_db(transaction=True)
def test_the_api_keeps_its_published_contract_for_anyone(case):
    _checked(case)


@signed_in.parametrize()
@SETTINGS
@pytest.mark.django_db(transaction=True)
def test_the_api_keeps_its_published_contract_for_a_listener(case):
    case.call_and_validate(headers=_headers(case))
