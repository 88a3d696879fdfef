"""E-mail templates without a database: times across DST and odd offsets, header safety, plain substitution."""

from __future__ import annotations

import html
import re
from datetime import datetime, timedelta, timezone
from email import message_from_bytes, policy
from email.message import Message
from zoneinfo import ZoneInfo

import pytest

from services.notifications.preferences import KINDS, fill
from services.notifications.templates import POLICY, Letter, defang, render, sign_in_message, when_text

VISUAL = re.compile(r'\b(button|click|tap|below|above)\b', re.IGNORECASE)


@pytest.mark.parametrize(
    ('utc', 'zone', 'expected'),
    [
        # the EU has moved to summer time, the US not yet... and the other way round in autumn
        (datetime(2027, 3, 29, 8, 0), 'Europe/Berlin', 'Monday 29 March 2027, 10:00\u201310:30 (Europe/Berlin, CEST)'),
        (
            datetime(2027, 3, 29, 8, 0),
            'America/New_York',
            'Monday 29 March 2027, 04:00\u201304:30 (America/New_York, EDT)',
        ),
        # across the autumn change: 01:30 EDT is followed, half an hour later, by 01:00 EST
        (
            datetime(2026, 11, 1, 5, 30),
            'America/New_York',
            'Sunday 1 November 2026, 01:30 EDT\u201301:00 EST (America/New_York)',
        ),
        (
            datetime(2026, 11, 1, 6, 30),
            'America/New_York',
            'Sunday 1 November 2026, 01:30\u201302:00 (America/New_York, EST)',
        ),
        (
            datetime(2026, 12, 1, 3, 15),
            'Asia/Kathmandu',
            'Tuesday 1 December 2026, 09:00\u201309:30 (Asia/Kathmandu, +0545)',
        ),
        (datetime(2026, 12, 1, 3, 30), 'Asia/Kolkata', 'Tuesday 1 December 2026, 09:00\u201309:30 (Asia/Kolkata, IST)'),
        (
            datetime(2026, 12, 1, 0, 0),
            'Australia/Lord_Howe',
            'Tuesday 1 December 2026, 11:00\u201311:30 (Australia/Lord_Howe, +11)',
        ),
    ],
)
def test_times_are_shown_in_the_recipients_zone_with_the_zone_named(utc: datetime, zone: str, expected: str) -> None:
    start = utc.replace(tzinfo=timezone.utc)
    assert when_text(start, start + timedelta(minutes=30), ZoneInfo(zone)) == expected


def letter(**changes: object) -> Letter:
    start = datetime(2026, 12, 8, 9, 30, tzinfo=timezone.utc)
    data = dict(
        kind='confirmation',
        key='k',
        to_name='Grace',
        to_email='grace@example.com',
        zone='UTC',
        host_name='Ada',
        event_title='Intro',
        start=start,
        end=start + timedelta(minutes=30),
        invitee_name='Grace',
        invitee_email='grace@example.com',
        invitee_zone='UTC',
        mail_from='CloudMeet <noreply@example.com>',
        subject_template='Confirmed: {event_name}',
    )
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
    values = {
        'event_name': '{host_name}',
        'host_name': 'Ada',
        'attendee_name': '{0.__class__}',
        'date': 'd',
        'time': 't',
    }
    assert fill('{event_name}|{attendee_name}|{missing}|{0}|%s', values) == '{host_name}|{0.__class__}|{missing}|{0}|%s'


def test_links_in_calendar_text_are_broken_up_visibly_with_nothing_hidden() -> None:
    broken = defang('see https://evil.example/x or www.evil.example and mail@evil.example')
    for link in ('https://evil.example', 'www.evil.example', 'mail@evil.example'):
        assert link not in broken
    assert broken == 'see https[:]//evil[.]example/x or www[.]evil[.]example and mail[@]evil[.]example'


def raw_parts(mail: Message) -> dict[str, tuple[str, bytes]]:
    """Each text part's transfer encoding and its body as the bytes on the wire."""
    return {
        part.get_content_type(): (str(part['Content-Transfer-Encoding']), part.as_bytes().split(b'\r\n\r\n', 1)[1])
        for part in mail.walk()
        if part.get_content_type() in ('text/plain', 'text/html')
    }


def text_and_html(mail: Message) -> tuple[str, str]:
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    found = {
        p.get_content_type(): p.get_content().replace('\r\n', '\n') for p in parsed.walk() if not p.is_multipart()
    }  # lines end in CRLF on the wire
    return found['text/plain'], found['text/html']


def visible_text(markup: str) -> str:
    """What a reader sees (and copies) of an HTML fragment: the text, tags gone, entities resolved."""
    return html.unescape(re.sub(r'<[^>]+>', '', markup))


def test_eml_bodies_are_quoted_printable_and_read_in_a_text_editor() -> None:
    mail = render(letter(host_name='Zoë', event_title='Intro call', notes='x' * 200))
    for content_type, (encoding, body) in raw_parts(mail).items():
        assert encoding == 'quoted-printable', content_type
        assert b'Intro call' in body and b'Zo=C3=AB' in body  # words as written, non-ASCII as =XX
        assert all(len(line) <= 76 for line in body.splitlines())
    assert text_and_html(mail)[0].startswith('What: Intro call\n')


def test_the_html_part_has_a_viewport_for_phones() -> None:
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in text_and_html(render(letter()))[1]


@pytest.mark.parametrize('kind', sorted(KINDS))
def test_plain_text_never_points_at_buttons_or_other_visual_elements(kind: str) -> None:
    mail = render(
        letter(
            kind=kind,
            manage_url='https://cloudmeet.example/booking/abc?token=t',
            proposal_links=(('Accept the new time', 'https://cloudmeet.example/a'),),
        )
    )
    assert not VISUAL.search(text_and_html(mail)[0])


def test_account_notices_in_plain_text_never_point_at_buttons_either() -> None:
    sign_in = sign_in_message(
        to_email='ada@example.com',
        url='https://cloudmeet.example/auth/email/x',
        mail_from='CloudMeet <noreply@example.com>',
        expires_minutes=15,
    )
    text = text_and_html(sign_in)[0]
    assert not VISUAL.search(text) and 'https://cloudmeet.example/auth/email/x' in text


LINKS = 'see https://evil.example/x?a=1&b=2 or www.evil.example and mail@evil.example'


def test_links_an_invitee_typed_are_not_links_in_the_hosts_html_yet_copy_exactly() -> None:
    mail = render(
        letter(
            kind='host_booking',
            invitee_name='Grace www.evil.example',
            notes=LINKS,
            answers=(('Website', 'https://evil.example/me'),),
            subject_template='New: {attendee_name}',
        )
    )
    text, markup = text_and_html(mail)
    assert '\u200b' not in text + markup and '&#8203;' not in markup  # nothing hidden that a copy would carry
    body = markup.split('<body', 1)[1]  # what is shown (the <title> is not)
    for link in ('https://evil.example', 'www.evil.example', 'mail@evil.example', 'evil.example/me'):
        assert link not in body  # no run of text a mail client could turn into a link
    for typed in (LINKS, 'https://evil.example/me', 'Grace www.evil.example', 'New: Grace www.evil.example'):
        assert typed in visible_text(body)  # selecting and copying gives back what was typed
    for line in (f'Notes: {LINKS}', 'Website: https://evil.example/me', 'Invitee: Grace www.evil.example'):
        assert f'\n{line}\n' in text  # the plain-text part shows it as it is
    assert body.count('<a ') == 1 and '<a href="mailto:grace@example.com"' in body  # the only link made


def test_the_invitees_own_e_mail_keeps_the_hosts_links_clickable() -> None:
    mail = render(
        letter(
            location_kind='link',
            location_label='Web conference',
            location_value='https://meet.example/ada',
            custom_message='Slides: https://ada.example/s',
        )
    )
    markup = text_and_html(mail)[1]
    assert '<a href="https://meet.example/ada"' in markup and 'https://ada.example/s' in markup


def test_a_twelve_hour_clock_reads_am_and_pm_in_subject_and_body() -> None:
    start = datetime(2026, 12, 8, 13, 30, tzinfo=timezone.utc)
    mail = render(
        letter(clock24=False, start=start, end=start + timedelta(minutes=30), subject_template='Confirmed at {time}')
    )
    parsed = message_from_bytes(mail.as_bytes(), policy=policy.default)
    assert parsed['Subject'] == 'Confirmed at 1:30 pm'
    assert 'When: Tuesday 8 December 2026, 1:30 pm\u20132:00 pm (UTC, UTC)' in text_and_html(mail)[0]
    assert '13:30\u201314:00' in text_and_html(render(letter(start=start, end=start + timedelta(minutes=30))))[0]


def test_twelve_hour_times_across_a_clock_change_name_both_offsets() -> None:
    start = datetime(2026, 11, 1, 5, 30, tzinfo=timezone.utc)
    assert (
        when_text(start, start + timedelta(minutes=30), ZoneInfo('America/New_York'), clock24=False)
        == 'Sunday 1 November 2026, 1:30 am EDT\u20131:00 am EST (America/New_York)'
    )


@pytest.mark.parametrize(
    ('kind', 'label', 'value', 'expected'),
    [
        ('none', '', '', 'Where: Ada will send you the details'),
        ('google_meet', 'Google Meet', '', 'Where: Google Meet (Ada will send you the link)'),
        ('teams', 'Microsoft Teams', '', 'Where: Microsoft Teams (Ada will send you the link)'),
        (
            'google_meet',
            'Google Meet',
            'https://meet.google.com/abc-defg-hij',
            'Where: https://meet.google.com/abc-defg-hij',
        ),
        ('phone', 'Phone call', '+1 555 0100', 'Where: +1 555 0100'),
    ],
)
def test_the_place_reads_naturally_when_there_is_none_or_the_video_link_is_not_known_yet(
    kind: str, label: str, value: str, expected: str
) -> None:
    text = text_and_html(render(letter(location_kind=kind, location_label=label, location_value=value)))[0]
    assert expected + '\n' in text
    assert 'None' not in text and 'details follow' not in text.lower()


def test_the_hosts_e_mail_words_a_missing_place_for_the_host() -> None:
    mail = render(letter(kind='host_booking', location_kind='google_meet', location_label='Google Meet'))
    text = text_and_html(mail)[0]
    assert 'Where: Google Meet (the link is not ready yet)\n' in text


@pytest.mark.parametrize(
    'value',
    [
        'Confirmed: Intro call',
        'two  spaces and a trailing one ',
        '',
        '=?utf-8?q?Caf=C3=A9?= with Zo=?utf-8?q?=C3=AB?=',
        'tab\tinside',
        'Zoë Ångström',
        'x' * 1200,  # over the line limit: folded by compat32
        ' '.join(['word'] * 300),
    ],
)
def test_headers_are_written_exactly_as_the_email_packages_classic_policy_writes_them(value: str) -> None:
    classic = policy.compat32.clone(max_line_length=998, linesep='\r\n')
    assert POLICY.fold('Subject', value) == classic.fold('Subject', value)
    assert POLICY.fold_binary('Subject', value) == classic.fold_binary('Subject', value)


def test_a_whole_e_mail_is_byte_for_byte_what_the_classic_policy_and_generator_write() -> None:
    ics = b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nEND:VCALENDAR\r\n'
    mail = render(
        letter(host_name='Zoë Ångström', to_name='José Núñez', event_title='Café ☕', ics=ics, ics_method='REQUEST')
    )
    ours = mail.as_bytes()
    for part in mail.walk():
        part.policy = policy.compat32.clone(max_line_length=998, linesep='\r\n')
    assert ours == mail.as_bytes()
    parsed = message_from_bytes(ours, policy=policy.default)
    assert [p.get_content_type() for p in parsed.walk()] == [
        'multipart/mixed',
        'multipart/alternative',
        'text/plain',
        'text/html',
        'text/calendar',
    ]
    assert parsed.get_boundary() != parsed.get_payload()[0].get_boundary()
