"""Where e-mails go: the file outbox (default), SMTP, or Resend. Chosen by settings and checked at start-up."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
import re
import smtplib
import ssl
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Protocol, cast

import resend

from app import files
from app.config import Settings

log = logging.getLogger(__name__)
SMTP_SECURITY = ('starttls', 'ssl', 'none')


class MailerConfigError(ValueError):
    """The mail settings cannot work; the message says which setting to fix."""


class DeliveryError(RuntimeError):
    """Sending failed; `permanent` ones are not retried."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Mailer(Protocol):
    name: str
    idempotent: bool

    def send(self, message: Message, key: str) -> None:
        """Deliver one message; `key` is stable per message, so a retried send is recognisable as the same one."""


class FileMailer:
    """Writes each message as `<outbox>/<key>.eml`; a retry of the same message replaces the same file."""

    name = 'file'
    idempotent = True  # a repeated send rewrites the same file

    def __init__(self, directory: Path) -> None:
        self.directory = files.private_dir(directory)  # its messages carry live sign-in and manage links

    def send(self, message: Message, key: str) -> None:
        path = self.directory / f'{_safe(key)}.eml'
        temporary = path.with_suffix(f'.{os.getpid()}.tmp')
        files.write_private(temporary, message.as_bytes())
        os.replace(temporary, path)
        log.info('e-mail to %s (%s) written to %s', message['To'], message['X-CloudMeet-Kind'], path.name)


class SmtpMailer:
    name = 'smtp'
    idempotent = False

    def __init__(self, host: str, port: int, security: str, username: str, password: str, timeout: float = 20):
        self.host, self.port, self.security = host, port, security
        self.username, self.password, self.timeout = username, password, timeout

    def send(self, message: Message, key: str) -> None:
        try:
            with self._connect() as smtp:
                if self.username:
                    smtp.login(self.username, self.password)
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            permanent = all(code >= 500 for code, _ in exc.recipients.values())  # 4xx (greylisting): retry
            raise DeliveryError(f'recipient refused: {_codes(exc.recipients)}', permanent=permanent) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise DeliveryError(f'SMTP login refused ({exc.smtp_code})') from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f'SMTP {type(exc).__name__}: {exc}'[:300]) from None

    def check(self) -> None:
        """Connect (and log in) once, to report an unreachable server or bad login at start-up."""
        with self._connect() as smtp:
            if self.username:
                smtp.login(self.username, self.password)

    def _connect(self) -> smtplib.SMTP:
        context = ssl.create_default_context()
        if self.security == 'ssl':
            return smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        smtp = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        if self.security == 'starttls':
            smtp.starttls(context=context)
        return smtp


class ResendMailer:
    """Resend through its Python SDK; the outbox key is Resend's idempotency key, so a retry never sends twice."""

    name = 'resend'
    idempotent = True  # the outbox key is sent as Resend's Idempotency-Key

    def __init__(self, api_key: str, api_url: str) -> None:
        resend.api_key = api_key
        resend.api_url = api_url.rstrip('/')

    def send(self, message: Message, key: str) -> None:
        params: dict = {
            'from': _decoded(message['From']),
            'to': [_decoded(message['To'])],
            'subject': _decoded(message['Subject']),
            'headers': {'X-CloudMeet-Kind': str(message['X-CloudMeet-Kind'])},
        }
        if message['Reply-To']:
            params['reply_to'] = str(message['Reply-To'])
        attachments = []
        for part in message.walk():
            if part.is_multipart():
                continue
            content = part.get_payload(decode=True)
            if not isinstance(content, bytes):
                continue
            if part.get_filename():
                attachments.append(
                    {
                        'filename': part.get_filename(),
                        'content': base64.b64encode(content).decode(),
                        'content_type': _content_type(part),
                    }
                )
            elif part.get_content_type() in ('text/plain', 'text/html'):
                params[part.get_content_type()[5:].replace('plain', 'text')] = content.decode(
                    part.get_content_charset() or 'utf-8'
                )
        if attachments:
            params['attachments'] = attachments
        try:
            resend.Emails.send(cast(resend.Emails.SendParams, params), options={'idempotency_key': key[:256]})
        except resend.exceptions.ResendError as exc:  # network failures arrive as ResendError(500) too
            permanent = str(exc.code) in {'400', '422'}  # a message Resend will never accept
            raise DeliveryError(
                f'Resend {exc.code} {exc.error_type}: {exc.message}'[:300], permanent=permanent
            ) from None


def mailer_from_settings(settings: Settings) -> Mailer:
    """The configured mailer, or a `MailerConfigError` that names the setting to fix."""
    _check_from(settings.mail_from)
    if settings.resend_api_key and settings.smtp_host:
        raise MailerConfigError('Both CLOUDMEET_RESEND_API_KEY and CLOUDMEET_SMTP_HOST are set; choose one mailer')
    if settings.resend_api_key:
        if not settings.resend_api_url.startswith(('https://', 'http://')):
            raise MailerConfigError('CLOUDMEET_RESEND_API_URL must be an http(s) URL')
        return ResendMailer(settings.resend_api_key, settings.resend_api_url)
    if settings.smtp_host:
        if settings.smtp_security not in SMTP_SECURITY:
            raise MailerConfigError(
                f'CLOUDMEET_SMTP_SECURITY must be one of {", ".join(SMTP_SECURITY)}, not {settings.smtp_security!r}'
            )
        if bool(settings.smtp_username) != bool(settings.smtp_password):
            raise MailerConfigError('Set both CLOUDMEET_SMTP_USERNAME and CLOUDMEET_SMTP_PASSWORD, or neither')
        return SmtpMailer(
            settings.smtp_host,
            settings.smtp_port,
            settings.smtp_security,
            settings.smtp_username,
            settings.smtp_password,
        )
    return FileMailer(settings.data_dir / 'outbox')


async def report_reachability(mailer: Mailer) -> None:
    """At start-up, say clearly (in the log) when the SMTP server cannot be reached or refuses the login."""
    if not isinstance(mailer, SmtpMailer):
        log.info(
            'e-mail goes through the %s mailer%s',
            mailer.name,
            f' into {mailer.directory}' if isinstance(mailer, FileMailer) else '',
        )
        return
    try:
        await asyncio.to_thread(mailer.check)
        log.info('e-mail goes through SMTP at %s:%d', mailer.host, mailer.port)
    except (smtplib.SMTPException, OSError) as exc:
        log.error(
            'SMTP server %s:%d cannot be used (%s: %s); e-mails wait in the outbox and are retried',
            mailer.host,
            mailer.port,
            type(exc).__name__,
            exc,
        )


def _check_from(mail_from: str) -> None:
    pairs = getaddresses([mail_from])
    if len(pairs) != 1 or not re.fullmatch(r'[^@\s<>]+@[^@\s<>]+', parseaddr(mail_from)[1] or ''):
        raise MailerConfigError(
            f'CLOUDMEET_MAIL_FROM must be one address such as "CloudMeet <noreply@example.com>", not {mail_from!r}'
        )


def _decoded(value: object) -> str:
    """A header as text (RFC 2047 encoded words decoded): Resend takes JSON strings."""
    return str(make_header(decode_header(str(value))))


def _content_type(part: Message) -> str:
    params = ''.join(f'; {k}={v}' for k, v in (part.get_params() or [])[1:] if k in ('method', 'charset'))
    return part.get_content_type() + params


def _codes(recipients: dict) -> str:
    return ', '.join(f'{code}' for code, _ in recipients.values())


def _safe(key: str) -> str:
    return re.sub(r'[^A-Za-z0-9._-]', '_', key)[:180]
