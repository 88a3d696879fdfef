"""The e-mails themselves: plain-text and HTML parts in the recipient's zone, with the .ics invitation attached.

Every value a host or invitee typed is escaped in the HTML part; links in an invitee's name, notes and answers are
split by <span> elements there, so that no mail client turns them into clickable links in the host's e-mail while a
copy still gives exactly what was typed. The plain-text part shows typed text as it is.
"""

from __future__ import annotations

import binascii
import html
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.nonmultipart import MIMENonMultipart
from email.policy import Compat32
from email.utils import format_datetime, formataddr, make_msgid, parseaddr
from zoneinfo import ZoneInfo

from app.i18n import DEFAULT_LOCALE, Translator, translator
from services.contrast import accessible_brand
from services.notifications.preferences import KINDS, fill

DEFAULT_BRAND = '#1d4ed8'
VIDEO_KINDS = ('google_meet', 'teams')


class _OneLinePolicy(Compat32):
    """The email package's classic policy, without the cost of folding what needs none. Our header values are one
    line of printable ASCII (non-ASCII text is RFC 2047 encoded before it is set) well under the line limit, which
    compat32 writes out unchanged, but only after building a `Header` and splitting it at every space: a fifth of
    an e-mail's writing time. Any other value (a long one, control or non-ASCII characters) takes compat32's path."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and value.isprintable()
            and len(name) + 2 + len(value) <= (self.max_line_length or 0)
        ):
            return f'{name}: {value}{self.linesep}'
        return str(super()._fold(name, value, sanitize))  # type: ignore[misc]  # private, not in typeshed


# Header lines may be up to 998 characters (RFC 5322); CRLF line ends on the wire.
POLICY = _OneLinePolicy(max_line_length=998, linesep='\r\n')
_URLISH = re.compile(r'\S*(?:://|www\.|@|\.[a-z]{2,})\S*', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Letter:
    """Everything one message says, as plain data (the worker fills it from the database)."""

    kind: str
    key: str
    to_name: str
    to_email: str
    zone: str  # the recipient's time zone
    host_name: str
    event_title: str
    start: datetime
    end: datetime
    invitee_name: str
    invitee_email: str
    invitee_zone: str
    mail_from: str
    subject_template: str
    custom_message: str = ''
    brand_color: str = ''
    location_label: str = ''
    location_value: str = ''
    old_start: datetime | None = None
    old_end: datetime | None = None
    reason: str = ''
    manage_url: str = ''
    book_again_url: str = ''
    notes: str = ''
    answers: tuple[tuple[str, str], ...] = ()
    proposal_message: str = ''
    answer_by: datetime | None = None
    proposal_links: tuple[tuple[str, str], ...] = ()  # (label, url): accept, decline, pick another time
    reply_to: str = ''
    ics: bytes = b''
    ics_method: str = ''
    clock24: bool = True  # the recipient's clock: 24-hour, or 12-hour ('9:30 am')
    location_kind: str = ''  # the event type's kind ('none', 'google_meet', ...), for wording a missing place
    locale: str = DEFAULT_LOCALE  # the recipient's language (the invitee's, as kept with the booking)


def render(letter: Letter) -> Message:
    kind = KINDS[letter.kind]
    zone, t = ZoneInfo(letter.zone), translator(letter.locale)
    values = {
        'event_name': letter.event_title,
        'host_name': letter.host_name,
        'attendee_name': letter.invitee_name,
        'date': day_text(letter.start, zone, t),
        'time': time_text(letter.start, zone, letter.clock24, t),
    }
    # the default subject speaks the recipient's language; a subject the host typed stays as typed
    template = t.gettext(kind.subject) if letter.subject_template == kind.subject else letter.subject_template
    subject = ' '.join(fill(template, values).split())[:250]
    custom = fill(letter.custom_message, values) if letter.custom_message else ''
    lines = _lines(letter, zone, kind.to_host, t)
    sender_name, sender = parseaddr(letter.mail_from)
    return _assemble(
        subject=subject,
        sender=(f'{letter.host_name} via {sender_name or "CloudMeet"}', sender),
        to=(letter.to_name, letter.to_email),
        reply_to=letter.reply_to,
        kind=letter.kind,
        key=letter.key,
        text=_text(lines, custom, t),
        html=_html(subject, lines, custom, letter.brand_color, kind.to_host, t),
        ics=letter.ics,
        ics_method=letter.ics_method,
    )


def _assemble(
    *,
    subject: str,
    sender: tuple[str, str],
    to: tuple[str, str],
    kind: str,
    key: str,
    text: str,
    html: str,
    reply_to: str = '',
    ics: bytes = b'',
    ics_method: str = '',
) -> Message:
    """The MIME message: text and HTML alternatives (and the invitation). Built with the email package's classic
    classes, which are several times faster than `EmailMessage` for the same result; every header value is one
    line (collapsed here, and addresses were validated on input), non-ASCII text is RFC 2047 encoded."""
    parts = [_text_part(text, 'plain'), _text_part(html, 'html')]
    alternative = MIMEMultipart('alternative', boundary=_boundary(parts), policy=POLICY)
    for part in parts:
        alternative.attach(part)
    if ics:
        invitation = MIMEBase('text', 'calendar', method=ics_method, charset='UTF-8', policy=POLICY)
        invitation.set_payload(ics)
        encoders.encode_base64(invitation)
        invitation.add_header('Content-Disposition', 'attachment', filename='invite.ics')
        message = MIMEMultipart('mixed', boundary=_boundary([*parts, invitation]), policy=POLICY)
        message.attach(alternative)
        message.attach(invitation)
    else:
        message = alternative
    domain = sender[1].partition('@')[2] or 'localhost'
    message['Subject'] = _header(subject)
    message['From'] = formataddr((_one_line(sender[0]), sender[1]), charset='utf-8')
    message['To'] = formataddr((_one_line(to[0]), to[1]), charset='utf-8')
    if reply_to:
        message['Reply-To'] = _one_line(reply_to)
    message['Date'] = format_datetime(datetime.now().astimezone())
    message['Message-ID'] = make_msgid(idstring=re.sub(r'[^A-Za-z0-9._-]', '.', key)[:60], domain=domain)
    message['X-CloudMeet-Kind'] = kind
    return message


def _boundary(parts: Sequence[Message]) -> str:
    """A random multipart boundary that none of the (encoded) parts contains. Left to the generator, it would also
    be random, but checked by compiling a new regular expression for each message."""
    while True:
        boundary = f'=_cloudmeet_{secrets.token_hex(16)}'
        if not any(boundary in str(part.get_payload()) for part in parts):
            return boundary


def _text_part(body: str, subtype: str) -> MIMENonMultipart:
    """A UTF-8 text part in quoted-printable: an `.eml` reads in a text editor (base64 would not), and the C encoder
    in `binascii` keeps it fast."""
    part = MIMENonMultipart('text', subtype, charset='utf-8', policy=POLICY)
    part['Content-Transfer-Encoding'] = 'quoted-printable'
    part.set_payload(binascii.b2a_qp(body.encode('utf-8'), istext=True).decode('ascii'))
    return part


def _header(value: str) -> str:
    value = _one_line(value)
    return value if value.isascii() else Header(value, 'utf-8').encode()  # encoded words of at most 75 chars


def sign_in_message(*, to_email: str, url: str, mail_from: str, expires_minutes: int) -> Message:
    """The e-mailed sign-in link (no host or booking involved)."""
    _ = translator(DEFAULT_LOCALE).gettext  # hosts read English for now, through the same catalogs
    intro = _(
        'Sign in to CloudMeet with the link in this e-mail. It works once, within {minutes} minutes. '
        'If you did not ask for it, ignore this e-mail.',
        minutes=expires_minutes,
    )
    return notice_message(
        to_email=to_email,
        subject=_('Your CloudMeet sign-in link'),
        intro=intro,
        button=(_('Sign in'), url),
        mail_from=mail_from,
        kind='sign_in',
    )


def notice_message(
    *, to_email: str, subject: str, intro: str, button: tuple[str, str], mail_from: str, kind: str
) -> Message:
    """A short message to a host about their account (sign-in links, a calendar that needs reconnecting)."""
    name, address = parseaddr(mail_from)
    label, url = button
    lines = [_Line(label, url, url=url, button=True)]
    return _assemble(
        subject=subject,
        sender=(name or 'CloudMeet', address),
        to=('', to_email),
        kind=kind,
        key=kind,
        text=f'{intro}\n\n{label}: {url}\n\n-- \nSent by CloudMeet\n',
        html=_html(subject, lines, intro),
    )


def day_text(moment: datetime, zone: ZoneInfo, t: Translator | None = None) -> str:
    """'Tuesday 8 December 2026' (or 'Dienstag, 8. Dezember 2026': the reader's language)."""
    return (t or translator(DEFAULT_LOCALE)).day(moment.astimezone(zone))


def time_text(moment: datetime, zone: ZoneInfo, clock24: bool = True, t: Translator | None = None) -> str:
    """'09:30' on a 24-hour clock, '9:30 am' on a 12-hour one (as the pages write it)."""
    return (t or translator(DEFAULT_LOCALE)).time(moment.astimezone(zone), clock24)


def when_text(start: datetime, end: datetime, zone: ZoneInfo, clock24: bool = True, t: Translator | None = None) -> str:
    """'Tuesday 8 December 2026, 09:30-10:00 (Europe/Berlin, CET)': the zone is always named (in German
    'Mitteleuropäische Normalzeit', and so on); a meeting across a clock change names the zone at each end
    ('01:30 EDT-01:00 EST')."""
    t = t or translator(DEFAULT_LOCALE)
    first, last = t.zone_name(start.astimezone(zone)), t.zone_name(end.astimezone(zone))
    begins, ends = time_text(start, zone, clock24, t), time_text(end, zone, clock24, t)
    if first != last:
        return f'{day_text(start, zone, t)}, {begins} {first}\u2013{ends} {last} ({zone.key})'
    return f'{day_text(start, zone, t)}, {begins}\u2013{ends} ({zone.key}, {first})'


def inert_html(text: str) -> str:
    """Escaped HTML for text an invitee typed, with the dots, colons, slashes and @ of anything link-like each in
    a <span>: mail clients find no link to make clickable, and a copy gives back exactly what was typed."""
    out, last = [], 0
    for match in _URLISH.finditer(text):
        out.append(html.escape(text[last : match.start()]))
        out.append(re.sub(r'([.:/@]+)', r'<span>\1</span>', html.escape(match.group(0))))
        last = match.end()
    out.append(html.escape(text[last:]))
    return ''.join(out)


def defang(text: str) -> str:
    """Plain text for places without markup (the host's calendar event): links visibly broken up
    ('evil[.]example'), so calendar apps show them as text and a copy shows plainly what changed."""
    return _URLISH.sub(lambda m: re.sub(r'([.:@])', r'[\1]', m.group(0)), text)


@dataclass(frozen=True, slots=True)
class _Line:
    label: str
    text: str
    url: str = ''  # a link the application made (manage links, the host's own meeting link)
    button: bool = False
    untrusted: bool = False  # typed by the invitee: made inert in the host's HTML


def _lines(letter: Letter, zone: ZoneInfo, to_host: bool, t: Translator) -> list[_Line]:
    _ = t.gettext
    lines = [_Line(_('What'), letter.event_title), *_when(letter, zone, t)]
    if to_host:
        lines.append(_Line(_('Invitee'), letter.invitee_name, untrusted=True))
        lines.append(_Line(_('E-mail'), letter.invitee_email, url=f'mailto:{letter.invitee_email}'))
        if letter.invitee_zone != letter.zone:
            lines.append(_Line(_("Invitee's time zone"), letter.invitee_zone))
    else:
        lines.append(_Line(_('Host'), letter.host_name))
    if letter.kind in ('request', 'host_request'):
        lines.append(
            _Line(
                _('Status'),
                _('Awaiting your confirmation')
                if to_host
                else _('Awaiting confirmation by {host_name}', host_name=letter.host_name),
            )
        )
    elif letter.kind == 'declined':
        lines.append(_Line(_('Status'), _('Declined by {host_name}', host_name=letter.host_name)))
    where = _where(letter, to_host, t)
    if where:
        link = letter.location_value if _is_web_link(letter.location_value) else ''
        lines.append(_Line(_('Where'), where, url=link))
    if letter.reason:
        lines.append(_Line(_('Reason'), letter.reason, untrusted=to_host))
    if to_host:
        if letter.notes:
            lines.append(_Line(_('Notes'), letter.notes, untrusted=True))
        lines.extend(_Line(label, value, untrusted=True) for label, value in letter.answers)
    if letter.proposal_message:
        lines.append(_Line(_('Message from {host_name}', host_name=letter.host_name), letter.proposal_message))
    if letter.answer_by:
        by = letter.answer_by
        lines.append(
            _Line(
                _('Please answer by'), f'{day_text(by, zone, t)}, {time_text(by, zone, letter.clock24, t)} ({zone.key})'
            )
        )
    lines.extend(_Line(label, url, url=url, button=True) for label, url in letter.proposal_links)
    if letter.manage_url:
        ended = letter.kind in ('cancellation', 'declined')
        label = _('Open your dashboard') if to_host else _('Book again') if ended else _('Reschedule or cancel')
        lines.append(_Line(label, letter.manage_url, url=letter.manage_url, button=True))
    return lines


def _when(letter: Letter, zone: ZoneInfo, t: Translator) -> list[_Line]:
    clock24, _ = letter.clock24, t.gettext
    now = _Line(_('When'), when_text(letter.start, letter.end, zone, clock24, t))
    if not (letter.old_start and letter.old_end):
        return [now]
    before = when_text(letter.old_start, letter.old_end, zone, clock24, t)
    if letter.kind == 'proposal':
        return [_Line(_('Currently'), before), _Line(_('Proposed'), now.text)]
    return [_Line(_('Was'), before), _Line(_('Now'), now.text)]


def _where(letter: Letter, to_host: bool, t: Translator) -> str:
    """The place in words: a video link still being made, or an event type without a place, reads as a sentence."""
    _ = t.gettext
    if letter.location_value:
        return letter.location_value
    host, label = letter.host_name, _(letter.location_label) if letter.location_label else ''
    if letter.location_kind == 'none':
        return _('You will send the details') if to_host else _('{host_name} will send you the details', host_name=host)
    if letter.location_kind in VIDEO_KINDS and label:
        return (
            _('{place} (the link is not ready yet)', place=label)
            if to_host
            else _('{place} ({host_name} will send you the link)', place=label, host_name=host)
        )
    return label


def _text(lines: list[_Line], custom: str, t: Translator) -> str:
    body = [custom, ''] if custom else []
    for line in lines:
        body.append(t.gettext('{label}: {value}', label=line.label, value=line.text))  # French puts a space first
    body += ['', '-- ', t.gettext('Sent by CloudMeet')]
    return '\n'.join(body) + '\n'


def _html(
    subject: str,
    lines: list[_Line],
    custom: str,
    brand_color: str = '',
    to_host: bool = False,
    t: Translator | None = None,
) -> str:
    """The HTML part; in the host's e-mail the subject and message may hold the invitee's name, so they are made
    inert like everything else the invitee typed."""
    brand = accessible_brand(brand_color, DEFAULT_BRAND)
    t = t or translator(DEFAULT_LOCALE)
    esc = html.escape
    typed = inert_html if to_host else esc
    rows: list[str] = []
    buttons: list[str] = []
    for line in lines:
        if line.button:  # the first is the main action; the others are outlined
            fill = f'background:{brand};color:#ffffff' if not buttons else f'background:#ffffff;color:{brand}'
            buttons.append(
                f'<a href="{esc(line.url)}" style="display:inline-block;{fill};border:2px solid {brand};'
                f'padding:8px 14px;margin:0 8px 8px 0;border-radius:6px;text-decoration:none;'
                f'font-weight:600">{esc(line.label)}</a>'
            )
            continue
        if line.url:
            value = f'<a href="{esc(line.url)}" style="color:{brand}">{esc(line.text)}</a>'
        else:
            value = (inert_html(line.text) if line.untrusted else esc(line.text)).replace('\n', '<br>\n')
        rows.append(
            f'<tr><th align="left" valign="top" style="padding:6px 12px 6px 0;color:#374151;'
            f'font-weight:600">{esc(line.label)}</th><td style="padding:6px 0">{value}</td></tr>'
        )
    note = f'<p style="margin:0 0 16px">{typed(custom).replace(chr(10), "<br>" + chr(10))}</p>' if custom else ''
    # One element per line: short lines need no quoted-printable soft breaks.
    return (
        '\n'.join(
            [
                '<!doctype html>',
                f'<html lang="{t.locale}"><head><meta charset="utf-8">',
                '<meta name="viewport" content="width=device-width, initial-scale=1">',
                f'<title>{esc(subject)}</title></head>',
                '<body style="margin:0;background:#f3f4f6;'
                'font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif">',
                '<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center" '
                'style="padding:24px">',
                '<table role="presentation" width="560" cellpadding="0" cellspacing="0" '
                'style="background:#ffffff;border-radius:8px;overflow:hidden;max-width:100%">',
                f'<tr><td style="background:{brand};color:#ffffff;padding:16px 24px;font-size:18px;font-weight:600">'
                f'{typed(subject)}</td></tr>',
                f'<tr><td style="padding:24px;color:#111827;font-size:15px;line-height:1.5">{note}',
                '<table role="presentation" cellpadding="0" cellspacing="0">',
                *rows,
                '</table>',
                *(['<p style="margin:20px 0 0">', *buttons, '</p>'] if buttons else []),
                '</td></tr>',
                f'<tr><td style="padding:12px 24px;color:#4b5563;font-size:12px">{esc(t.gettext("Sent by CloudMeet"))}'
                '</td></tr>',
                '</table></td></tr></table></body></html>',
            ]
        )
        + '\n'
    )


def _one_line(value: str) -> str:
    return ' '.join(value.split())


def _is_web_link(value: str) -> bool:
    return value.startswith(('https://', 'http://')) and ' ' not in value
