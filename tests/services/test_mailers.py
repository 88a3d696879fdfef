"""The three mailers against real wire protocols: SMTP (a local aiosmtpd server, plain and STARTTLS with login),
Resend (its Python SDK against a local stand-in of its API), and the file outbox; plus start-up configuration."""

from __future__ import annotations

import datetime as dt
import socket
import ssl
import subprocess
import sys
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path

import icalendar
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.config import Settings
from services.notifications import mailers
from services.notifications.mailers import DeliveryError, FileMailer, MailerConfigError, ResendMailer, SmtpMailer
from services.notifications.templates import Letter, render
from tests.fakes import resend_api
from tests.fakes.tls import self_signed

ROOT = Path(__file__).resolve().parents[2]
START = dt.datetime(2026, 12, 8, 9, 30, tzinfo=dt.timezone.utc)


def letter(**changes: object) -> Letter:
    ics = (
        b'BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\nMETHOD:REQUEST\r\nBEGIN:VEVENT\r\nUID:x@t\r\n'
        b'DTSTAMP:20261201T000000Z\r\nDTSTART:20261208T093000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n'
    )
    data = dict(
        kind='confirmation',
        key='abc.confirmation.0',
        to_name='Grace Hopper',
        to_email='grace@example.com',
        zone='Europe/Berlin',
        host_name='Ada Lovelace',
        event_title='Intro call',
        start=START,
        end=START + dt.timedelta(minutes=30),
        invitee_name='Grace Hopper',
        invitee_email='grace@example.com',
        invitee_zone='Europe/Berlin',
        mail_from='CloudMeet <noreply@cloudmeet.example>',
        subject_template='Confirmed: {event_name} on {date} at {time}',
        ics=ics,
        ics_method='REQUEST',
        manage_url='https://cloudmeet.example/booking/abc?token=t0k3n',
    )
    return Letter(**(data | changes))  # type: ignore[arg-type]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


class Sink:
    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server, session, envelope):  # type: ignore[no-untyped-def]
        self.received.append((list(envelope.rcpt_tos), envelope.original_content))
        return '250 Message accepted for delivery'


def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
    ok = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (b'cloudmeet', b's3cret')
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_server() -> Iterator[tuple[Sink, int]]:
    sink, port = Sink(), free_port()
    controller = Controller(
        sink,
        hostname='127.0.0.1',
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
        auth_exclude_mechanism=['LOGIN'],
    )
    controller.start()
    yield sink, port
    controller.stop()


def test_smtp_delivers_text_html_and_the_invitation_after_logging_in(smtp_server: tuple[Sink, int]) -> None:
    sink, port = smtp_server
    SmtpMailer('127.0.0.1', port, 'none', 'cloudmeet', 's3cret').send(render(letter()), 'abc.confirmation.0')
    ((recipients, raw),) = sink.received
    assert recipients == ['grace@example.com']
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail['Subject'] == 'Confirmed: Intro call on Tuesday 8 December 2026 at 10:30'
    types = [p.get_content_type() for p in mail.walk() if not p.is_multipart()]
    assert types == ['text/plain', 'text/html', 'text/calendar']
    ics = next(p for p in mail.walk() if p.get_content_type() == 'text/calendar')
    assert ics.get_param('method') == 'REQUEST' and ics.get_filename() == 'invite.ics'
    assert len(list(icalendar.Calendar.from_ical(ics.get_payload(decode=True)).walk('VEVENT'))) == 1


def test_smtp_failures_are_reported_as_retryable_or_permanent(smtp_server: tuple[Sink, int]) -> None:
    _, port = smtp_server
    with pytest.raises(DeliveryError) as refused_login:
        SmtpMailer('127.0.0.1', port, 'none', 'cloudmeet', 'wrong', timeout=5).send(render(letter()), 'k')
    assert not refused_login.value.permanent and 'login refused' in str(refused_login.value)
    with pytest.raises(DeliveryError) as unreachable:
        SmtpMailer('127.0.0.1', free_port(), 'none', '', '', timeout=2).send(render(letter()), 'k')
    assert not unreachable.value.permanent


def test_smtp_starttls_verifies_the_server_and_then_logs_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cert, key = self_signed(tmp_path)
    server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_context.load_cert_chain(cert, key)
    sink, port = Sink(), free_port()
    controller = Controller(
        sink,
        hostname='127.0.0.1',
        port=port,
        authenticator=authenticator,
        tls_context=server_context,
        require_starttls=True,
    )
    controller.start()
    try:
        with pytest.raises(DeliveryError):  # an untrusted certificate is refused: no mail over an unverified link
            SmtpMailer('127.0.0.1', port, 'starttls', 'cloudmeet', 's3cret').send(render(letter()), 'k')
        trusting = ssl.create_default_context(cafile=cert)  # as if the operator's CA trusted the server
        monkeypatch.setattr(mailers.ssl, 'create_default_context', lambda: trusting)
        SmtpMailer('127.0.0.1', port, 'starttls', 'cloudmeet', 's3cret').send(render(letter()), 'k')
    finally:
        controller.stop()
    assert len(sink.received) == 1


@pytest.fixture
def fake_resend() -> Iterator[resend_api.FakeResend]:
    fake, server = resend_api.serve()
    yield fake
    server.shutdown()


def test_resend_receives_the_message_through_its_sdk_with_the_outbox_key_as_idempotency_key(
    fake_resend: resend_api.FakeResend,
) -> None:
    mailer = ResendMailer(resend_api.API_KEY, fake_resend.url)
    message = render(letter())
    mailer.send(message, 'abc.confirmation.0')
    mailer.send(message, 'abc.confirmation.0')  # a retry after a crash: Resend sends it once
    (email,) = fake_resend.emails
    assert len(fake_resend.requests) == 2
    assert email['to'] == ['Grace Hopper <grace@example.com>'] and email['idempotency_key'] == 'abc.confirmation.0'
    assert email['from'] == 'Ada Lovelace via CloudMeet <noreply@cloudmeet.example>'
    assert 'Tuesday 8 December 2026, 10:30' in email['text'] and '<table' in email['html']
    (attachment,) = email['attachments']
    assert attachment['filename'] == 'invite.ics' and attachment['content_type'].startswith('text/calendar')
    import base64

    assert base64.b64decode(attachment['content']).startswith(b'BEGIN:VCALENDAR')
    assert fake_resend.requests[0]['headers']['authorization'] == f'Bearer {resend_api.API_KEY}'
    assert 'token=t0k3n' not in str(fake_resend.requests[0]['headers'])


def test_resend_errors_are_retryable_unless_resend_will_never_accept_the_message(
    fake_resend: resend_api.FakeResend,
) -> None:
    mailer = ResendMailer(resend_api.API_KEY, fake_resend.url)
    fake_resend.fail_next = [500, 429]
    for _ in range(2):
        with pytest.raises(DeliveryError) as outage:
            mailer.send(render(letter()), 'k1')
        assert not outage.value.permanent
    with pytest.raises(DeliveryError) as invalid:
        mailer.send(render(letter(to_email='grace@example.com', subject_template='   ')), 'k2')
    assert invalid.value.permanent and '422' in str(invalid.value)
    with pytest.raises(DeliveryError) as bad_key:
        ResendMailer('re_wrong', fake_resend.url).send(render(letter()), 'k3')
    assert not bad_key.value.permanent and '401' in str(bad_key.value)
    with pytest.raises(DeliveryError):
        ResendMailer(resend_api.API_KEY, f'http://127.0.0.1:{free_port()}').send(render(letter()), 'k4')


def test_the_file_outbox_writes_one_parseable_eml_per_message_and_a_retry_replaces_it(tmp_path: Path) -> None:
    mailer = FileMailer(tmp_path / 'outbox')
    mailer.send(render(letter()), 'abc.confirmation.0')
    mailer.send(render(letter()), 'abc.confirmation.0')
    (path,) = (tmp_path / 'outbox').iterdir()
    assert path.name == 'abc.confirmation.0.eml'
    assert message_from_bytes(path.read_bytes(), policy=policy.default)['To'] == 'Grace Hopper <grace@example.com>'


@pytest.mark.parametrize(
    ('env', 'complaint'),
    [
        ({'smtp_host': 'mail.example', 'smtp_security': 'tls'}, 'CLOUDMEET_SMTP_SECURITY must be one of'),
        ({'smtp_host': 'mail.example', 'smtp_username': 'me'}, 'CLOUDMEET_SMTP_PASSWORD'),
        ({'smtp_host': 'mail.example', 'resend_api_key': 're_x'}, 'choose one mailer'),
        ({'mail_from': 'not an address'}, 'CLOUDMEET_MAIL_FROM'),
        ({'mail_from': 'a@example.com, b@example.com'}, 'CLOUDMEET_MAIL_FROM'),
        ({'resend_api_key': 're_x', 'resend_api_url': 'ftp://x'}, 'CLOUDMEET_RESEND_API_URL'),
    ],
)
def test_a_misconfigured_mailer_is_refused_with_the_setting_to_fix(env: dict, complaint: str, tmp_path: Path) -> None:
    with pytest.raises(MailerConfigError, match=complaint):
        mailers.mailer_from_settings(Settings(data_dir=tmp_path, **env))


def test_the_mailer_follows_the_settings(tmp_path: Path) -> None:
    assert isinstance(mailers.mailer_from_settings(Settings(data_dir=tmp_path)), FileMailer)
    assert isinstance(
        mailers.mailer_from_settings(Settings(data_dir=tmp_path, smtp_host='mail.example', smtp_security='ssl')),
        SmtpMailer,
    )
    assert isinstance(mailers.mailer_from_settings(Settings(data_dir=tmp_path, resend_api_key='re_x')), ResendMailer)


def test_the_server_refuses_to_start_with_a_misconfigured_mailer_and_says_why(tmp_path: Path) -> None:
    env = {
        'PATH': '/usr/bin:/bin',
        'CLOUDMEET_DATA_DIR': str(tmp_path),
        'CLOUDMEET_SMTP_HOST': 'mail.example',
        'CLOUDMEET_SMTP_SECURITY': 'tls',
        'CLOUDMEET_PORT': str(free_port()),
    }
    done = subprocess.run([sys.executable, 'main.py'], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert 'CloudMeet cannot start: CLOUDMEET_SMTP_SECURITY must be one of starttls, ssl, none' in done.stderr
