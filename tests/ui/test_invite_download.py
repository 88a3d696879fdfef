"""The .ics an invitee downloads from their confirmation page: a published event to keep, organised by the host,
with their own manage link, and nothing a calendar would answer."""

from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar
from nicegui.testing.user import User

from app.db import session_scope
from services import bookings
from tests.factories import at, make_event_type, make_host, next_monday


async def test_the_downloaded_invitation_is_published_by_the_host_with_the_manage_link(user: User) -> None:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        call = make_event_type(session, host, slug='call', title='Intro call')
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=call,
            start=at(next_monday(), '10:00'),
            now=datetime.now(timezone.utc),
            invitee=bookings.Invitee('Grace Hopper', 'grace@example.com', 'America/New_York'),
        )
    link = f'/booking/{receipt.booking.uid}?token={receipt.token}'
    response = await user.http_client.get(f'/booking/{receipt.booking.uid}/invite.ics?token={receipt.token}')
    assert response.status_code == 200
    calendar = Calendar.from_ical(response.content)
    (event,) = calendar.walk('VEVENT')
    assert str(calendar['METHOD']) == 'PUBLISH'
    assert str(event['ORGANIZER']) == 'mailto:ada@example.com' and event['ORGANIZER'].params['CN'] == 'Ada Lovelace'
    assert 'ATTENDEE' not in event and b'RSVP' not in response.content  # nothing to answer, least of all no-reply
    assert str(event['URL']).endswith(link) and link in str(event['DESCRIPTION'])
