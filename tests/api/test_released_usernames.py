"""A released username stays with its host for 90 days: its public API links lead to the new username (307, so a
booking's POST stays a POST), nobody else can claim it, and its owner can take it back."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from app.db import session_scope
from app.errors import Conflict
from app.models import ReleasedUsername
from services import hosts
from tests.api.test_public_api import MONDAY, booking_body
from tests.factories import make_host


def rename(client: TestClient, ada: dict, username: str) -> None:
    r = client.patch('/me', headers=ada['auth'], json={'username': username})
    assert r.status_code == 200 and r.json()['username'] == username


def test_old_public_links_redirect_to_the_new_username(client: TestClient, ada: dict) -> None:
    rename(client, ada, 'ada-lovelace')
    listed = client.get('/public/ada/event-types', follow_redirects=False)
    assert listed.status_code == 307
    assert listed.headers['location'].endswith('/public/ada-lovelace/event-types')
    params = {'start': MONDAY.isoformat(), 'end': MONDAY.isoformat(), 'timezone': 'UTC'}
    slots = client.get('/public/ada/call/slots', params=params, follow_redirects=False)
    assert slots.status_code == 307 and '/public/ada-lovelace/call/slots?' in slots.headers['location']
    assert 'timezone=UTC' in slots.headers['location']
    booked = client.post('/public/ada/call/bookings', json=booking_body())  # followed, still a POST
    assert booked.status_code == 201
    assert client.get('/public/ada-lovelace/event-types').status_code == 200


def test_nobody_else_can_claim_a_released_username(client: TestClient, ada: dict) -> None:
    rename(client, ada, 'ada-lovelace')
    with session_scope(write=True) as session:
        with pytest.raises(Conflict, match="'ada' is taken"):
            make_host(session, username='ada', email='mallory@example.com')
    with session_scope(write=True) as session:
        grace = make_host(session, username='grace')
    with session_scope(write=True) as session:
        with pytest.raises(Conflict, match='taken'):
            hosts.update_profile(session=session, host_id=grace.id, changes={'username': 'ada'})
    assert client.get('/public/ada/event-types', follow_redirects=False).status_code == 307


def test_the_owner_can_take_a_released_username_back_and_a_chain_of_renames_leads_to_the_current_one(
    client: TestClient, ada: dict
) -> None:
    rename(client, ada, 'ada-l')
    rename(client, ada, 'ada-lovelace')
    assert (
        client.get('/public/ada/event-types', follow_redirects=False)
        .headers['location']
        .endswith('/public/ada-lovelace/event-types')
    )
    assert (
        client.get('/public/ada-l/event-types', follow_redirects=False)
        .headers['location']
        .endswith('/public/ada-lovelace/event-types')
    )
    rename(client, ada, 'ada')
    assert client.get('/public/ada/event-types').status_code == 200
    assert client.get('/public/ada-lovelace/event-types', follow_redirects=False).status_code == 307


def test_after_90_days_the_username_is_free_and_old_links_are_404(client: TestClient, ada: dict) -> None:
    rename(client, ada, 'ada-lovelace')
    with session_scope(write=True) as session:
        row = session.exec(select(ReleasedUsername).where(ReleasedUsername.username == 'ada')).one()
        row.released_at -= timedelta(days=91)
        session.add(row)
    assert client.get('/public/ada/event-types', follow_redirects=False).status_code == 404
    with session_scope(write=True) as session:
        make_host(session, username='ada', email='new-ada@example.com')
