"""A booking in the invitee's calendar: the .ics invitation and add-to-calendar links."""

from __future__ import annotations

from datetime import datetime, timezone
from urllib.parse import urlencode, urlparse

from icalendar import Calendar, Event, vCalAddress, vText

from app.config import get_settings

PRODID = '-//CloudMeet//Scheduling//EN'


def invitation(
    *,
    uid: str,
    title: str,
    start: datetime,
    end: datetime,
    host_name: str,
    host_email: str,
    invitee_name: str,
    invitee_email: str,
    location: str = '',
    description: str = '',
    sequence: int = 0,
    cancelled: bool = False,
    stamp: datetime | None = None,
    url: str = '',
    published: bool = False,
) -> bytes:
    """The one invitation of a booking (UID stable per booking), organised by the host, so that an invitee's
    calendar answers the host and never the instance's no-reply sender.

    `published` makes the copy an invitee downloads: a PUBLISH with no attendee, so no calendar offers to RSVP.
    `url` is the invitee's manage link, for the invitee's copies only (never the host's: it would let anyone who
    sees the host's calendar cancel the meeting).
    """
    settings = get_settings()
    return booking_ics(
        uid=uid,
        domain=urlparse(settings.public_url).hostname or 'localhost',
        title=title,
        start=start,
        end=end,
        organizer_name=host_name,
        organizer_email=host_email,
        attendee_name=invitee_name,
        attendee_email=invitee_email,
        location=location,
        description=description,
        sequence=sequence,
        cancelled=cancelled,
        stamp=stamp,
        url=url,
        method='PUBLISH' if published else '',
    )


def manage_url(uid: str, token: str) -> str:
    """The invitee's link to their booking (it carries the token: only for the invitee's own copies)."""
    return f'{get_settings().public_url}/booking/{uid}?token={token}'


def booking_ics(
    *,
    uid: str,
    domain: str,
    title: str,
    start: datetime,
    end: datetime,
    organizer_name: str,
    organizer_email: str,
    attendee_name: str,
    attendee_email: str,
    location: str = '',
    description: str = '',
    sequence: int = 0,
    cancelled: bool = False,
    stamp: datetime | None = None,
    url: str = '',
    method: str = '',
) -> bytes:
    """An iCalendar REQUEST (or CANCEL, or a PUBLISH without attendees) with one VEVENT; icalendar escapes and
    folds every text value."""
    method = method or ('CANCEL' if cancelled else 'REQUEST')
    cal = Calendar()
    cal.add('prodid', PRODID)
    cal.add('version', '2.0')
    cal.add('method', method)
    event = Event()
    event.add('uid', f'{uid}@{domain}')
    event.add('dtstamp', stamp or datetime.now(timezone.utc))
    event.add('sequence', sequence)
    event.add('dtstart', start.astimezone(timezone.utc))
    event.add('dtend', end.astimezone(timezone.utc))
    event.add('summary', title)
    if description:
        event.add('description', description)
    if location:
        event.add('location', location)
    if url:
        event.add('url', url)
    organizer = vCalAddress(f'mailto:{organizer_email}')
    organizer.params['cn'] = vText(organizer_name)
    event['organizer'] = organizer
    if method != 'PUBLISH':  # RFC 5546: a PUBLISH names no attendees
        attendee = vCalAddress(f'mailto:{attendee_email}')
        attendee.params.update(
            {
                'cn': vText(attendee_name),
                'role': vText('REQ-PARTICIPANT'),
                'partstat': vText('NEEDS-ACTION'),
                'rsvp': vText('TRUE'),
            }
        )
        event.add('attendee', attendee)
    event.add('status', 'CANCELLED' if cancelled else 'CONFIRMED')
    cal.add_component(event)
    return cal.to_ical()


def google_calendar_link(*, title: str, start: datetime, end: datetime, details: str = '', location: str = '') -> str:
    stamp = '%Y%m%dT%H%M%SZ'
    dates = f'{start.astimezone(timezone.utc).strftime(stamp)}/{end.astimezone(timezone.utc).strftime(stamp)}'
    query = {'action': 'TEMPLATE', 'text': title, 'dates': dates, 'details': details, 'location': location}
    return 'https://calendar.google.com/calendar/render?' + urlencode(query)


def outlook_calendar_link(*, title: str, start: datetime, end: datetime, details: str = '', location: str = '') -> str:
    query = {
        'path': '/calendar/action/compose',
        'rru': 'addevent',
        'subject': title,
        'startdt': start.astimezone(timezone.utc).isoformat(),
        'enddt': end.astimezone(timezone.utc).isoformat(),
        'body': details,
        'location': location,
    }
    return 'https://outlook.live.com/calendar/0/deeplink/compose?' + urlencode(query)
