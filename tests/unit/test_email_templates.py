"""E-mail templates without a database: times across DST and odd offsets, header safety, plain substitution."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import pytest

from services.notifications.preferences import fill
from services.notifications.templates import Letter, defang, render, when_text


@pytest.mark.parametrize(('utc', 'zone', 'expected'), [
    # the EU has moved to summer time, the US not yet... and the other way round in autumn
    (datetime(2027, 3, 29, 8, 0), 'Europe/Berlin', 'Monday 29 March 2027, 10:00\u201310:30 (Europe/Berlin, CEST)'),
    (datetime(2027, 3, 29, 8, 0), 'America/New_York', 'Monday 29 March 2027, 04:00\u201304:30 (America/New_York, EDT)'),
    # across the autumn change: 01:30 EDT is followed, half an hour later, by 01:00 EST
    (datetime(2026, 11, 1, 5, 30), 'America/New_York',
     'Sunday 1 November 2026, 01:30 EDT\u201301:00 EST (America/New_York)'),
    (datetime(2026, 11, 1, 6, 30), 'America/New_York',
     'Sunday 1 November 2026, 01:30\u201302:00 (America/New_York, EST)'),
    (datetime(2026, 12, 1, 3, 15), 'Asia/Kathmandu',
     'Tuesday 1 December 2026, 09:00\u201309:30 (Asia/Kathmandu, +0545)'),
    (datetime(2026, 12, 1, 3, 30), 'Asia/Kolkata', 'Tuesday 1 December 2026, 09:00\u201309:30 (Asia/Kolkata, IST)'),
    (datetime(2026, 12, 1, 0, 0), 'Australia/Lord_Howe',
     'Tuesday 1 December 2026, 11:00\u201311:30 (Australia/Lord_Howe, +11)'),
])
def test_times_are_shown_in_the_recipients_zone_with_the_zone_named(utc: datetime, zone: str, expected: str) -> None:
    start = utc.replace(tzinfo=timezone.utc)
    assert when_text(start, start + timedelta(minutes=30), ZoneInfo(zone)) == expected


def letter(**changes: object) -> Letter:
    start = datetime(2026, 12, 8, 9, 30, tzinfo=timezone.utc)
    data = dict(kind='confirmation', key='k', to_name='Grace', to_email='grace@example.com', zone='UTC',
                host_name='Ada', event_title='Intro', start=start, end=start + timedelta(minutes=30),
                invitee_name='Grace', invitee_email='grace@example.com', invitee_zone='UTC',
                mail_from='CloudMeet <noreply@example.com>', subject_template='Confirmed: {event_name}')
    return Letter(**(data | changes))  # type: ignore[arg-type]


def test_a_subject_or_title_with_line_breaks_cannot_add_a_header() -> None:
    mail = render(letter(subject_template='Hi\r\nBcc: all@example.com\r\n\r\nbody', event_title='X\nBcc: y@z'))
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed['Bcc'] is None and parsed['Subject'] == 'Hi Bcc: all@example.com body'
    assert len([k for k in parsed.keys() if k.lower() == 'bcc']) == 0


def test_non_ascii_names_and_subjects_are_encoded_and_read_back_intact() -> None:
    mail = render(letter(host_name='Zoë Ångström', to_name='José Núñez', event_title='Café ☕'))
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed['Subject'] == 'Confirmed: Café ☕'
    assert parsed['To'].addresses[0].display_name == 'José Núñez'
    assert parsed['From'].addresses[0].display_name == 'Zoë Ångström via CloudMeet'
    assert all(ord(c) < 128 for c in mail.as_bytes().split(b'\r\n\r\n')[0].decode('ascii'))  # headers stay 7-bit


def test_variables_are_substituted_plainly_and_nothing_else_is_interpreted() -> None:
    values = {'event_name': '{host_name}', 'host_name': 'Ada', 'attendee_name': '{0.__class__}', 'date': 'd',
              'time': 't'}
    assert fill('{event_name}|{attendee_name}|{missing}|{0}|%s', values) == '{host_name}|{0.__class__}|{missing}|{0}|%s'


def test_links_are_broken_up_but_stay_readable() -> None:
    broken = defang('see https://evil.example/x or www.evil.example and mail@evil.example')
    for link in ('https://evil.example', 'www.evil.example', 'mail@evil.example'):
        assert link not in broken
    assert broken.replace('\u200b', '') == 'see https://evil.example/x or www.evil.example and mail@evil.example'
