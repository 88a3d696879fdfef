"""The API under test: the real FastAPI sub-application on a fresh database, with a host and an API key."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from api import create_api
from app.db import session_scope
from services import hosts
from tests.factories import make_event_type, make_host
from tests.fakes.radicale import caldav_user, radicale_server  # noqa: F401 - fixtures


@pytest.fixture
def client(database: sa.Engine) -> Iterator[TestClient]:
    with TestClient(create_api(), base_url='http://testserver') as test_client:
        yield test_client


@pytest.fixture
def ada(client: TestClient) -> dict:
    """Host 'ada' (Europe/London, weekdays 09:00-17:00) with a 30-minute 'call' and her API key."""
    with session_scope(write=True) as session:
        host = make_host(session)
        call = make_event_type(
            session,
            host,
            slug='call',
            questions=[{'id': 'topic', 'label': 'Topic', 'kind': 'short_text', 'required': False}],
        )
        key = hosts.create_api_key(session=session, host_id=host.id)
    return {'host': host, 'call': call, 'auth': {'Authorization': f'Bearer {key}'}}
