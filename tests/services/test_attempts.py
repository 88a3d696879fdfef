"""Wrong manage tokens and sign-in link requests are counted in the database: every process shares the count."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from app import db
from app.errors import NotFound, RateLimited
from services import attempts, bookings, use_cases
from tests.factories import at, make_event_type, make_host, next_monday

pytestmark = pytest.mark.usefixtures('database')
NOW = datetime.now(timezone.utc)


def test_twenty_wrong_tokens_lock_out_guessers_in_every_process_but_never_the_right_token(database: sa.Engine) -> None:
    with db.session_scope(write=True) as session:
        call = make_event_type(session, make_host(session), slug='call')
        receipt = bookings.book_slot(
            session=session,
            event_type=call,
            start=at(next_monday(), '10:00'),
            now=NOW,
            invitee=bookings.Invitee('Grace', 'grace@example.com', 'UTC'),
        )
    uid = receipt.booking.uid
    for _ in range(20):
        with pytest.raises(NotFound):
            use_cases.manage_view(uid=uid, token='wrong', address='203.0.113.9', now=NOW)
    other_process = db.create_db_engine(database.url.render_as_string(hide_password=False))
    db.use_engine(other_process)  # the count lives in the database, not in the process that counted
    try:
        with pytest.raises(RateLimited):
            use_cases.manage_view(uid=uid, token='wrong', address='203.0.113.9', now=NOW)
        assert use_cases.manage_view(uid=uid, token=receipt.token, address='203.0.113.9', now=NOW).uid == uid
        with pytest.raises(NotFound):  # another address is not locked out by this one
            use_cases.manage_view(uid=uid, token='wrong', address='198.51.100.7', now=NOW)
    finally:
        db.use_engine(database)
        other_process.dispose()


def test_sign_in_link_requests_are_limited_per_address_and_forgotten_after_the_window() -> None:
    assert not any(attempts.login_link_requested(address='192.0.2.1', now=NOW) for _ in range(10))
    assert attempts.login_link_requested(address='192.0.2.1', now=NOW)
    assert not attempts.login_link_requested(address='192.0.2.2', now=NOW)
    assert not attempts.login_link_requested(address='192.0.2.1', now=NOW + timedelta(minutes=16))
