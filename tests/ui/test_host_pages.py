"""The host's own pages with NiceGUI's simulated user: dashboard (live), event types, availability, settings,
and that a host can only ever reach their own objects."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

import pytest
from nicegui import ui
from nicegui.testing.user import User
from nicegui.testing.user_interaction import UserInteraction
from sqlmodel import select

from app.db import session_scope
from app.models import ApiKey, Booking, EventType, Host, OutboxMessage, Schedule
from services import accounts, bookings, hosts
from services.accounts import VerifiedIdentity
from tests.factories import at, make_event_type, make_host, next_monday

NOW = datetime.now(timezone.utc)
MONDAY = next_monday()


@pytest.fixture
def ada(user: User) -> dict:
    """Ada, signed in, with her first 30-minute event type (London, weekdays 09:00-17:00)."""
    identity = VerifiedIdentity(provider='google', subject='ada', email='ada@example.com', email_verified=True)
    with session_scope(write=True) as session:
        signed = accounts.sign_in(session, identity, now=NOW)
    with session_scope(write=True) as session:
        host = accounts.complete_onboarding(
            session, token=signed.token, name='Ada Lovelace', username='ada', timezone='Europe/London', now=NOW
        )
        event_type = session.exec(select(EventType).where(EventType.host_id == host.id)).one()
    user.http_client.cookies.set('cloudmeet_session', signed.token)
    return {'host': host, 'event_type': event_type}


def book(event_type: EventType, clock: str, name: str = 'Grace Hopper', day=MONDAY) -> Booking:  # type: ignore
    with session_scope(write=True) as session:
        return bookings.book_slot(
            session=session,
            event_type=event_type,
            start=at(day, clock),
            now=NOW,
            invitee=bookings.Invitee(name, f'{name.split()[0].lower()}@example.com', 'America/New_York'),
        ).booking


# --- dashboard -------------------------------------------------------------------------------------------------


async def test_a_booking_made_elsewhere_appears_on_an_open_dashboard_with_a_notification(user: User, ada: dict) -> None:
    await user.open('/dashboard')
    await user.should_see('Nothing booked yet', retries=40)
    book(ada['event_type'], '10:00')  # as the API or a booking page would
    await user.should_see('Grace Hopper · grace@example.com', retries=40)
    await user.should_see('New booking')
    await user.should_see(f'{MONDAY:%A} {MONDAY.day} {MONDAY:%B %Y}')


async def test_cancelling_from_the_dashboard_asks_for_a_message_and_tells_the_invitee(user: User, ada: dict) -> None:
    booking = book(ada['event_type'], '11:00')
    await user.open('/dashboard')
    await user.should_see('Grace Hopper', retries=40)
    user.find(marker='cancel').click()
    await user.should_see('Cancel the meeting with Grace Hopper?')
    user.find(marker='cancel-message').type('Sorry, I am ill')
    user.find(marker='confirm-cancel').click()
    await user.should_see('Meeting cancelled', retries=40)
    with session_scope() as session:
        stored = session.get(Booking, booking.id)
        message = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'cancellation')).one()
    assert stored.status == 'cancelled' and message.context['reason'] == 'Sorry, I am ill'
    await user.should_see('Nothing booked yet', retries=40)


async def test_search_tabs_and_paging(user: User, ada: dict) -> None:
    book(ada['event_type'], '09:00', 'Grace Hopper')
    cancelled = book(ada['event_type'], '09:30', 'Alan Turing')
    with session_scope(write=True) as session:
        bookings.cancel_booking(session=session, booking=session.get(Booking, cancelled.id), reason='', now=NOW)
    for n in range(21):
        book(
            ada['event_type'],
            f'{10 + n // 2 if n < 14 else 10 + (n - 14) // 2:02d}:{30 * (n % 2):02d}',
            f'Guest {n}',
            MONDAY if n < 14 else MONDAY + timedelta(days=1),
        )
    await user.open('/dashboard')
    await user.should_see('Page 1 of 2 (22 bookings)', retries=40)
    user.find(marker='search').type('grace')
    await user.should_see('Grace Hopper', retries=40)
    await user.should_not_see('Guest 1', retries=40)
    user.find(marker='search').clear()
    user.find(marker='tabs').elements.pop().value = 'cancelled'
    await user.should_see('Alan Turing', retries=40)
    await user.should_not_see('Grace Hopper')


async def test_erasing_an_invitee_from_the_dashboard(user: User, ada: dict) -> None:
    booking = book(ada['event_type'], '12:00')
    await user.open('/dashboard')
    await user.should_see('Grace Hopper', retries=40)
    erase = user.find(marker='erase').elements.pop()
    assert isinstance(erase, ui.menu_item) and not erase.menu.value  # a rare, lasting action: folded away
    user.find(marker='more').click()
    user.find(marker='erase').click()
    await user.should_see("Erase this invitee's details?")
    user.find(marker='confirm-erase').click()
    await user.should_see("The invitee's details were erased", retries=40)
    with session_scope() as session:
        assert session.get(Booking, booking.id).invitee_email == bookings.ERASED_EMAIL


async def test_a_card_says_which_reminder_goes_when_and_when_each_message_went(user: User, ada: dict) -> None:
    booking = book(ada['event_type'], '10:00')
    with session_scope(write=True) as session:
        confirmation = session.exec(select(OutboxMessage).where(OutboxMessage.kind == 'confirmation')).one()
        confirmation.status, confirmation.sent_at = 'sent', datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
        session.add(confirmation)
    day_before = MONDAY - timedelta(days=1)
    await user.open('/dashboard')
    await user.should_see('Grace Hopper', retries=40)
    await user.should_see('Booking confirmation (invitee): sent 1 Dec, 09:00')  # London in winter: UTC
    await user.should_see(f'Reminder 24 h before (invitee): due {day_before.day} {day_before:%b}, 10:00')
    await user.should_see(f'Reminder 1 h before (invitee): due {MONDAY.day} {MONDAY:%b}, 09:00')
    assert booking.start_at == at(MONDAY, '10:00')


async def test_on_a_phone_the_host_navigation_is_a_menu_with_every_page(user: User, ada: dict) -> None:
    await user.open('/dashboard')
    await user.should_see(marker='nav-menu')
    user.find(marker='nav-menu').click()
    links = sorted(user.find(marker='nav-menu-link').elements, key=lambda e: e.id)
    assert [link.text for link in links] == [
        'Bookings',
        'Event types',
        'Availability',
        'Teams',
        'Integrations',
        'Settings',
    ]
    assert [link.text for link in links if link.props.get('aria-current') == 'page'] == ['Bookings']  # read out
    user.find(kind=ui.link, content='Availability', marker='nav-menu-link').click()
    await user.should_see('Weekly hours', retries=40)


# --- event types -----------------------------------------------------------------------------------------------


async def test_creating_an_event_type_in_the_editor(user: User, ada: dict) -> None:
    await user.open('/event-types/new')
    user.find(marker='title').type('Deep dive <b>now</b>')
    await user.should_see(marker='slug')
    assert user.find(marker='slug').elements.pop().value == 'deep-dive-b-now-b'
    user.find(marker='add-question').click()
    user.find(marker='question-label').type('What should we cover?')
    user.find(marker='save').click()
    await user.should_see('Event type created', retries=40)
    with session_scope() as session:
        created = session.exec(select(EventType).where(EventType.slug == 'deep-dive-b-now-b')).one()
    assert created.title == 'Deep dive <b>now</b>' and created.questions[0]['label'] == 'What should we cover?'
    await user.should_see('Deep dive <b>now</b>', retries=40)  # back on the list, as text


async def test_mistakes_in_the_editor_are_refused_with_the_reason(user: User, ada: dict) -> None:
    await user.open(f'/event-types/{ada["event_type"].id}')
    await user.should_see(marker='min-notice')
    user.find(marker='max-days').elements.pop().value = 2
    user.find(marker='min-notice').elements.pop().value = 5000
    user.find(marker='save').click()
    await user.should_see('Minimum notice is longer than the booking window')
    user.find(marker='min-notice').elements.pop().value = 60
    user.find(marker='slug').elements.pop().value = 'Bad Slug!'
    user.find(marker='save').click()
    await user.should_see('slug', retries=40)
    with session_scope() as session:
        assert session.get(EventType, ada['event_type'].id).min_notice_minutes == 0


async def test_switching_off_duplicating_and_deleting_an_event_type(user: User, ada: dict) -> None:
    booking = book(ada['event_type'], '13:00')
    await user.open('/event-types')
    await user.should_see('30 minute meeting', retries=40)
    user.find(marker='active').click()
    await user.should_see('Switched off: not listed and not bookable', retries=40)
    user.find(marker='duplicate').click()
    await user.should_see('30 minute meeting (copy)', retries=40)
    with session_scope() as session:
        types = {e.slug: e for e in session.exec(select(EventType))}
    assert not types['30min'].active and not types['30min-copy'].active
    first_delete = min(user.find(marker='delete').elements, key=lambda e: e.id)  # the original's
    UserInteraction(user, {first_delete}, None).click()
    await user.should_see('Existing bookings are kept.')
    user.find(marker='confirm-delete').click()
    await user.should_see('Event type deleted', retries=40)
    with session_scope() as session:
        assert {e.slug for e in session.exec(select(EventType))} == {'30min-copy'}
        assert session.get(Booking, booking.id).status == 'confirmed'  # the booking stays


async def test_another_hosts_event_type_is_not_found_and_unchanged(user: User, ada: dict) -> None:
    with session_scope(write=True) as session:
        bob = make_host(session, username='bob')
        secret = make_event_type(session, bob, slug='secret', title='Bob only')
    for path in (f'/event-types/{secret.id}', '/event-types/abc', '/event-types/999999'):
        page = await user.http_client.get(path)
        assert page.status_code == 404 and 'This event type does not exist, or it is not yours.' in page.text
        assert 'Bob only' not in page.text


# --- availability ----------------------------------------------------------------------------------------------


async def test_overlapping_hours_are_refused_and_a_day_off_is_saved(user: User, ada: dict) -> None:
    await user.open('/availability')
    await user.should_see('Weekly hours', retries=40)
    user.find(marker='add-monday').click()  # 17:00-18:00 after 09:00-17:00
    await user.should_see(marker='interval-start')
    starts = [e for e in user.find(marker='interval-start').elements]
    monday_second = next(e for e in starts if e.value == '17:00')
    monday_second.value = '16:00'  # now it overlaps 09:00-17:00
    user.find(marker='save-schedule').click()
    await user.should_see('overlap', retries=40)
    monday_second.value = '17:00'
    ends = [e for e in user.find(marker='interval-end').elements]
    next(e for e in ends if e.value == '18:00').value = '19:30'
    user.find(marker='save-schedule').click()
    await user.should_see('Schedule saved', retries=40)
    with session_scope() as session:
        schedule = session.exec(select(Schedule).where(Schedule.host_id == ada['host'].id)).one()
    assert schedule.weekly['monday'] == [{'start': '09:00', 'end': '17:00'}, {'start': '17:00', 'end': '19:30'}]
    await user.should_see(marker='preview-day')


async def test_the_preview_shows_saved_hours_right_after_saving(user: User, ada: dict) -> None:
    await user.open('/availability')
    await user.should_see(marker='preview-saturday', retries=40)
    assert user.find(marker='preview-saturday').elements.pop().text == '—'  # weekends off at first
    user.find(marker='add-saturday').click()  # 09:00-10:00
    user.find(marker='save-schedule').click()
    await user.should_see('Schedule saved', retries=40)
    for _ in range(40):  # no reload: the preview follows the save
        if user.find(marker='preview-saturday').elements.pop().text != '—':
            break
        await asyncio.sleep(0.1)
    assert user.find(marker='preview-saturday').elements.pop().text == '09:00, 09:30'


async def test_a_schedule_id_of_another_host_shows_ones_own(user: User, ada: dict) -> None:
    with session_scope(write=True) as session:
        bob = make_host(session, username='bob', timezone_name='Asia/Tokyo')
        bobs = session.exec(select(Schedule).where(Schedule.host_id == bob.id)).one()
    await user.open(f'/availability?schedule={bobs.id}')
    await user.should_see('Weekly hours', retries=40)
    await user.should_not_see('Tokyo')


# --- settings --------------------------------------------------------------------------------------------------


async def test_profile_changes_are_validated_and_saved(user: User, ada: dict) -> None:
    with session_scope(write=True) as session:
        make_host(session, username='taken')
    await user.open('/settings')
    await user.should_see('Profile', retries=40)
    user.find(marker='profile-username').elements.pop().value = 'taken'
    user.find(marker='save-profile').click()
    await user.should_see("The username 'taken' is taken", retries=40)
    user.find(marker='profile-username').elements.pop().value = 'ada-l'
    user.find(marker='profile-color').elements.pop().value = '#ffd500'
    await user.should_see('below 4.5:1')
    user.find(marker='save-profile').click()
    await user.should_see('Profile saved', retries=40)
    with session_scope() as session:
        host = session.get(Host, ada['host'].id)
    assert (host.username, host.brand_color) == ('ada-l', '#ffd500')


async def test_api_keys_are_shown_once_listed_and_revoked(user: User, ada: dict) -> None:
    await user.open('/settings')
    user.find(marker='api-key-label').type('zapier')
    user.find(marker='create-api-key').click()
    await user.should_see('shown only once', retries=40)
    secret = user.find(marker='new-api-key').elements.pop().text
    with session_scope() as session:
        assert hosts.host_for_api_key(session=session, secret=secret).id == ada['host'].id
    user.find(marker='revoke-api-key').click()
    await user.should_see('Key revoked', retries=40)
    with session_scope() as session:
        assert session.exec(select(ApiKey)).one().revoked_at is not None


async def test_notifications_and_embedding_are_validated_and_saved(user: User, ada: dict) -> None:
    await user.open('/settings')
    user.find(marker='reminder-offsets').elements.pop().value = '120, soon'
    user.find(marker='save-notifications').click()
    await user.should_see('Reminder times are whole minutes', retries=40)
    user.find(marker='reminder-offsets').elements.pop().value = '2880, 30'
    user.find(marker='save-notifications').click()
    await user.should_see('Notifications saved', retries=40)
    user.find(marker='embed-origins').elements.pop().value = 'not an origin'
    user.find(marker='save-embedding').click()
    await user.should_see('is not an origin like https://www.example.com', retries=40)
    user.find(marker='embed-origins').elements.pop().value = 'https://www.example.com'
    user.find(marker='save-embedding').click()
    await user.should_see('Embedding saved', retries=40)
    with session_scope() as session:
        host = session.get(Host, ada['host'].id)
    assert host.reminder_offsets == [2880, 30] and host.embed_origins == ['https://www.example.com']


async def test_proposing_a_new_time_from_the_dashboard(user: User, ada: dict) -> None:
    booking = book(ada['event_type'], '09:00')
    await user.open('/dashboard')
    await user.should_see('Grace Hopper', retries=40)
    user.find(marker='propose').click()
    await user.should_see('Propose a new time to Grace Hopper')
    await user.should_see(marker='time', retries=60)
    first = min(user.find(marker='time').elements, key=lambda e: e.id)
    UserInteraction(user, {first}, None).click()
    await user.should_see('Proposing ', retries=20)
    user.find(marker='proposal-message').type('Could we move it?')
    user.find(marker='send-proposal').click()
    await user.should_see('Proposal sent', retries=40)
    await user.should_see('waiting for the invitee', retries=40)
    with session_scope() as session:
        stored = session.get(Booking, booking.id)
    assert stored.proposed_start_at is not None and stored.proposal_message == 'Could we move it?'
    assert stored.start_at == at(MONDAY, '09:00')  # nothing moves until the invitee accepts


PNG = (
    b'\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89'
    b'\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82'
)


async def test_a_picture_is_checked_by_content_and_shown_on_the_public_page(user: User, ada: dict) -> None:
    from app.errors import InvalidInput

    with session_scope(write=True) as session:
        for bad in (b'<svg onload=alert(1)>', b'GIF89a....', PNG + b'x' * 1_000_000):
            with pytest.raises(InvalidInput):
                hosts.set_avatar(session=session, host_id=ada['host'].id, data=bad)
        hosts.set_avatar(session=session, host_id=ada['host'].id, data=PNG)
    picture = await user.http_client.get('/avatar/ada')
    assert picture.status_code == 200 and picture.headers['content-type'] == 'image/png'
    assert picture.content == PNG
    await user.open('/ada')
    await user.should_see(marker='avatar')
    assert (await user.http_client.get('/avatar/nobody')).status_code == 404


async def test_a_picture_is_chosen_with_a_button_and_removed_only_when_there_is_one(user: User, ada: dict) -> None:
    await user.open('/settings')
    await user.should_see(marker='avatar-choose')  # a plain button opens the file picker
    await user.should_not_see(marker='avatar-remove')
    await user.should_not_see(marker='avatar-picture')
    uploader = user.find(kind=ui.upload).elements.pop()
    await uploader.handle_uploads([ui.upload.SmallFileUpload('me.png', 'image/png', PNG)])
    await user.should_see('Picture saved', retries=40)
    await user.should_see(marker='avatar-picture')
    await user.should_see(marker='avatar-remove')
    with session_scope() as session:
        assert session.get(Host, ada['host'].id).avatar == PNG
    user.find(marker='avatar-remove').click()
    await user.should_see('Picture removed', retries=40)
    await user.should_not_see(marker='avatar-remove')
    with session_scope() as session:
        assert session.get(Host, ada['host'].id).avatar is None


async def test_a_new_api_key_is_copied_with_a_button(user: User, ada: dict) -> None:
    await user.open('/settings')
    user.find(marker='create-api-key').click()
    await user.should_see('shown only once', retries=40)
    user.find(marker='copy-api-key').click()
    await user.should_see('Key copied')  # what lands on the clipboard is checked in a real browser


@pytest.mark.parametrize('path', ['/dashboard', '/availability', '/settings'])
async def test_every_icon_only_button_on_host_pages_has_a_name_and_a_tooltip(user: User, ada: dict, path: str) -> None:
    book(ada['event_type'], '10:00')
    await user.open(path)
    await user.should_see(marker='nav-menu')
    await asyncio.sleep(0.5)  # the dashboard's cards arrive after the page
    buttons = [b for b in user.find(kind=ui.button).elements if b.props.get('icon') and not b.text]
    assert buttons
    tips = {t.props.get('target') for t in buttons[0].client.elements.values() if isinstance(t, ui.tooltip)}
    for button in buttons:
        assert button.props.get('aria-label') and f'#{button.html_id}' in tips, f'{button.props["icon"]} on {path}'


# --- integrations ----------------------------------------------------------------------------------------------


async def test_a_calendar_feed_is_added_checked_and_disconnected(
    user: User, ada: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings
    from app.models import CalendarConnection
    from services.calendars import busy
    from tests.fakes import google_calendar

    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)
    state, server = google_calendar.serve_ics()
    state['status'] = 503
    busy.reset_cache()
    try:
        await user.open('/integrations')
        await user.should_see('No calendars connected yet', retries=40)
        user.find(marker='feed-url').type(state['url'])
        user.find(marker='feed-name').type('Home')
        user.find(marker='add-feed').click()
        await user.should_see('Feed added, but it could not be read yet', retries=60)
        await user.should_see('Calendar feed: Home', retries=40)
        user.find(marker='disconnect').click()
        user.find(marker='confirm-disconnect').click()
        await user.should_see('Calendar disconnected', retries=40)
        with session_scope() as session:
            assert session.exec(select(CalendarConnection)).all() == []
    finally:
        server.shutdown()
        busy.reset_cache()


async def test_integrations_marks_the_calendar_that_receives_new_bookings_and_moves_it_on_request(
    user: User, ada: dict
) -> None:
    from app import crypto
    from app.models import CalendarConnection

    with session_scope(write=True) as session:
        for provider, label in (('ics', 'Home'), ('google', 'ada@gmail.com'), ('microsoft', 'ada@outlook.com')):
            session.add(
                CalendarConnection(
                    host_id=ada['host'].id,
                    provider=provider,
                    label=label,
                    secret_encrypted=crypto.encrypt('secret'),
                    busy_calendars=[],
                )
            )

    def receiving() -> list[str]:
        return [
            text
            for card in user.find(marker='connection').elements
            if any(isinstance(e, ui.badge) and e.text == 'New bookings go here' for e in card.descendants())
            for text in [e.text for e in card.descendants() if isinstance(e, ui.label) and ': ' in e.text]
        ]

    await user.open('/integrations')
    await user.should_see('Microsoft 365: ada@outlook.com', retries=40)
    await user.should_see('Calendar feed: Home')
    assert receiving() == ['Google Calendar: ada@gmail.com']  # the first that can take events
    user.find(marker='make-destination').click()  # offered on Microsoft only: a feed cannot take events
    await user.should_see('New bookings will be written there', retries=40)
    assert receiving() == ['Microsoft 365: ada@outlook.com']


async def test_a_feed_address_on_a_private_network_is_refused(user: User, ada: dict) -> None:
    await user.open('/integrations')
    user.find(marker='feed-url').type('https://192.168.1.10/calendar.ics')
    user.find(marker='add-feed').click()
    await user.should_see('private or local network addresses are not allowed', retries=40)


async def test_the_dashboard_warns_when_a_calendar_needs_reconnecting(user: User, ada: dict) -> None:
    from app import crypto
    from app.models import CalendarConnection

    with session_scope(write=True) as session:
        session.add(
            CalendarConnection(
                host_id=ada['host'].id,
                provider='google',
                label='ada@gmail.com',
                status='reconnect_needed',
                status_detail='Google no longer accepts access',
                secret_encrypted=crypto.encrypt('rt'),
                busy_calendars=['primary'],
            )
        )
    await user.open('/dashboard')
    await user.should_see('A calendar needs your attention', retries=40)
    await user.should_see('ada@gmail.com: Google no longer accepts access')


async def test_the_booking_page_says_when_the_hosts_calendar_cannot_be_checked_and_offers_nothing(
    user: User, ada: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings
    from services.calendars import busy, connections
    from tests.fakes import google_calendar

    monkeypatch.setattr(get_settings(), 'allow_private_calendar_urls', True)
    state, server = google_calendar.serve_ics()
    state['status'] = 500
    busy.reset_cache()
    try:
        with session_scope(write=True) as session:
            connections.add_feed(session, host_id=ada['host'].id, url=state['url'], label='Home')
        await user.open('/ada/30min')
        await user.should_see("calendars can't be checked right now", retries=60)
        await user.should_not_see(marker='time')
    finally:
        server.shutdown()
        busy.reset_cache()


async def test_a_meet_link_is_never_promised_without_a_google_account_to_make_it(user: User, ada: dict) -> None:
    from services.calendars import connections

    await user.open('/event-types/new')
    await user.should_see(marker='location-kind')
    assert user.find(marker='location-kind').elements.pop().value == 'none'  # no video link by default
    user.find(marker='location-kind').elements.pop().value = 'google_meet'
    await user.should_see('A Google Meet link needs a connected Google account')
    await user.should_see(marker='connect-for-video')
    with session_scope(write=True) as session:
        make_event_type(session, ada['host'], slug='meet', title='Meet me', location={'kind': 'google_meet'})
    await user.open('/ada/meet')
    await user.should_see('Online: the host will send the details')
    await user.should_not_see('Google Meet')
    with session_scope(write=True) as session:
        connections.add_account(
            session, provider='google', host_id=ada['host'].id, email='ada@example.com', refresh_token='rt'
        )
    await user.open('/ada/meet')
    await user.should_see('Google Meet')
    await user.open('/event-types/new')
    await user.should_see(marker='location-kind')
    assert user.find(marker='location-kind').elements.pop().value == 'google_meet'
    await user.should_not_see('A Google Meet link needs a connected Google account')


async def test_integrations_says_which_providers_the_operator_has_not_configured(
    user: User, ada: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from app.config import get_settings

    await user.open('/integrations')
    await user.should_see('Integrations')
    await user.should_see(
        'Google Calendar is not set up on this server. The operator turns it on with the settings '
        'CLOUDMEET_GOOGLE_CLIENT_ID and CLOUDMEET_GOOGLE_CLIENT_SECRET.'
    )
    await user.should_see(marker='unconfigured-microsoft')
    monkeypatch.setattr(get_settings(), 'google_client_id', 'configured')
    monkeypatch.setattr(get_settings(), 'google_client_secret', 'configured')
    await user.open('/integrations')
    await user.should_see(marker='connect-google')
    await user.should_not_see(marker='unconfigured-google')


async def test_editor_mistakes_read_as_sentences_and_sit_at_their_fields(user: User, ada: dict) -> None:
    await user.open(f'/event-types/{ada["event_type"].id}')
    await user.should_see(marker='duration')
    user.find(marker='title').elements.pop().value = ''
    user.find(marker='duration').elements.pop().value = 2
    user.find(marker='save').click()
    await user.should_see('Duration must be at least 5.')
    duration = next(iter(user.find(marker='duration').elements))
    assert duration.props['error'] is True and duration.props['error-message'] == 'Duration must be at least 5.'
    assert 'String should' not in next(iter(user.find(marker='error').elements)).text
