"""The invitee's pages in their language through NiceGUI's simulated user: the browser's Accept-Language chooses it,
the picker changes it, the booking keeps it, and anything unsupported reads English."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from nicegui.testing.user import User
from sqlmodel import select

from app.db import session_scope
from app.models import Booking
from tests.factories import make_event_type, make_host
from tests.ui.test_booking_pages import NY, first_offer

GERMAN_MONTHS = (
    'Januar',
    'Februar',
    'März',
    'April',
    'Mai',
    'Juni',
    'Juli',
    'August',
    'September',
    'Oktober',
    'November',
    'Dezember',
)
GERMAN_WEEKDAYS = ('Montag', 'Dienstag', 'Mittwoch', 'Donnerstag', 'Freitag', 'Samstag', 'Sonntag')


@pytest.fixture
def ada(user: User) -> dict:
    with session_scope(write=True) as session:
        host = make_host(session, name='Ada Lovelace')
        call = make_event_type(session, host, slug='call', title='Intro call', location={'kind': 'phone', 'value': ''})
    return {'host': host, 'call': call}


def german_day(day: date) -> str:
    """'Montag, 7. Dezember 2026', as CLDR writes a full date in German."""
    return f'{GERMAN_WEEKDAYS[day.weekday()]}, {day.day}. {GERMAN_MONTHS[day.month - 1]} {day.year}'


def month_label(user: User) -> str:
    return user.find(marker='month-label').elements.pop().text  # type: ignore[attr-defined]


async def test_a_german_browser_sees_the_booking_page_in_german(user: User, ada: dict) -> None:
    user.http_client.headers['accept-language'] = 'de-DE,de;q=0.9,en;q=0.8'
    day, _start = first_offer(ada['call'])
    await user.open('/ada/call')
    await user.should_see('Datum und Uhrzeit wählen')
    await user.should_see('Telefonat')  # the place
    await user.should_see('30 Min.')
    await user.should_see(german_day(day), retries=40)  # the selected day's heading
    assert month_label(user) == f'{GERMAN_MONTHS[day.month - 1]} {day.year}'
    weekdays = {e.text for e in user.find(marker='weekday').elements}  # type: ignore[attr-defined]
    assert weekdays == {'Mo', 'Di', 'Mi', 'Do', 'Fr', 'Sa', 'So'}
    zone = user.find(marker='timezone').elements.pop()
    assert 'Vereinigte Staaten' in zone.options[zone.value]  # type: ignore[attr-defined]  # the country in German
    assert zone.props['label'] == 'Zeitzone'
    await user.should_not_see('Select a date and time')


async def test_a_german_invitee_books_in_german_and_the_booking_keeps_the_language(user: User, ada: dict) -> None:
    user.http_client.headers['accept-language'] = 'de-DE'
    day, start = first_offer(ada['call'])
    time = f'{start.astimezone(NY):%H:%M}'
    await user.open('/ada/call')
    await user.should_see(time, retries=40)
    user.find(marker='time', content=time).click()
    await user.should_see('Ihre Angaben')
    await user.should_see('(Ortszeit New York)')
    user.find(marker='name').type('Grete Hopper')
    user.find(marker='email').type('grete@example.com')
    user.find(marker='confirm').click()
    await user.should_see('Ihr Termin steht', retries=40)
    await user.should_see('Zu Ihrem Kalender hinzufügen')
    await user.should_see(german_day(day))
    with session_scope() as session:
        assert session.exec(select(Booking)).one().locale == 'de'


async def test_the_picker_switches_the_language_and_the_address_keeps_it(user: User, ada: dict) -> None:
    await user.open('/ada/call')
    await user.should_see('Select a date and time')
    user.find(marker='language').elements.pop().value = 'fr'  # type: ignore[attr-defined]
    await user.should_see('Choisissez une date et une heure', retries=40)
    await user.should_see('Appel téléphonique')
    await user.should_not_see('Select a date and time')
    await user.open('/ada/call?lang=pl')
    await user.should_see('Wybierz datę i godzinę')


@pytest.mark.parametrize('header', ['xx-YY', 'ja-JP,zh;q=0.8', ''])
async def test_an_unsupported_language_falls_back_to_english(user: User, ada: dict, header: str) -> None:
    user.http_client.headers['accept-language'] = header
    day, _ = first_offer(ada['call'])
    await user.open('/ada/call')
    await user.should_see('Select a date and time')
    await user.should_see(f'{day:%A} {day.day} {day:%B %Y}', retries=40)
    weekdays = {e.text for e in user.find(marker='weekday').elements}  # type: ignore[attr-defined]
    assert weekdays == {'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'}


async def test_the_manage_page_speaks_the_bookings_language(user: User, ada: dict) -> None:
    from services import bookings
    from services.bookings import Invitee

    _, start = first_offer(ada['call'])
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=start,
            now=datetime.now(NY),
            invitee=Invitee('Juana', 'juana@example.com', 'America/New_York', locale='es'),
        )
    await user.open(f'/booking/{receipt.booking.uid}?token={receipt.token}')  # the browser says nothing: English
    await user.should_see('Su cita está confirmada')
    await user.should_see('Zona horaria: Nueva York')
    await user.should_see('Cancelar reunión')
    await user.open(f'/booking/{receipt.booking.uid}?token={receipt.token}&lang=de')  # the invitee's own choice
    await user.should_see('Ihr Termin steht')


async def test_a_language_picked_on_the_manage_page_is_kept_for_the_bookings_e_mails(user: User, ada: dict) -> None:
    from services import bookings
    from services.bookings import Invitee

    _, start = first_offer(ada['call'])
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=start,
            now=datetime.now(NY),
            invitee=Invitee('Juana', 'juana@example.com', 'America/New_York', locale='es'),
        )
    await user.open(f'/booking/{receipt.booking.uid}?token={receipt.token}')
    await user.should_see('Su cita está confirmada')
    user.find(marker='language').elements.pop().value = 'pt'  # type: ignore[attr-defined]
    await user.should_see('Seu horário está agendado', retries=40)
    with session_scope() as session:
        assert session.exec(select(Booking)).one().locale == 'pt'


async def test_the_downloaded_invitation_speaks_the_bookings_language(user: User, ada: dict) -> None:
    from services import bookings
    from services.bookings import Invitee

    _, start = first_offer(ada['call'])
    with session_scope(write=True) as session:
        receipt = bookings.book_slot(
            session=session,
            event_type=ada['call'],
            start=start,
            now=datetime.now(NY),
            invitee=Invitee('Grete', 'grete@example.com', 'Europe/Berlin', locale='de'),
        )
    response = await user.http_client.get(f'/booking/{receipt.booking.uid}/invite.ics', params={'token': receipt.token})
    text = response.text.replace('\r\n ', '')  # unfold
    assert response.status_code == 200
    assert 'SUMMARY:Intro call mit Ada Lovelace' in text
    assert 'DESCRIPTION:Verschieben oder absagen: ' in text and 'LOCATION:Telefonat' in text


async def test_the_host_sees_which_language_an_invitee_reads(user: User) -> None:
    from datetime import timezone

    from services import accounts, bookings
    from services.accounts import VerifiedIdentity
    from services.bookings import Invitee
    from tests.factories import at, next_monday

    now = datetime.now(timezone.utc)
    identity = VerifiedIdentity(provider='google', subject='ada', email='ada@example.com', email_verified=True)
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=now)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=now
        )
        call = make_event_type(session, host, slug='chat', title='Chat')
    for name, clock, locale in (('Grete', '10:00', 'de'), ('Grace', '11:00', 'en')):
        with session_scope(write=True) as session:
            bookings.book_slot(
                session=session,
                event_type=call,
                start=at(next_monday(), clock),
                now=now,
                invitee=Invitee(name, f'{name.lower()}@example.com', 'Europe/London', locale=locale),
            )
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    await user.open('/dashboard')
    await user.should_see('Grete · grete@example.com', retries=40)
    await user.should_see("Invitee's language: Deutsch")
    assert len(user.find(marker='invitee-language').elements) == 1  # English needs no mention
