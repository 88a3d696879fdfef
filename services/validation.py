"""Input rules shared by the API, the CLI and the pages: time zones, single-line text, e-mail addresses."""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from zoneinfo import ZoneInfo

from pydantic import AfterValidator

from app.errors import InvalidInput
from services import zones

USERNAME = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,38}[a-z0-9])?$')
SLUG = re.compile(r'^[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?$')
EMAIL = re.compile(
    r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
    r'(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$'
)
RESERVED_USERNAMES = frozenset(
    {
        'api',
        'auth',
        'login',
        'logout',
        'signup',
        'dashboard',
        'event-types',
        'availability',
        'integrations',
        'settings',
        'privacy',
        'booking',
        'bookings',
        'admin',
        'static',
        'assets',
        '_nicegui',
        '_nicegui_ws',
        'docs',
        'health',
        'favicon.ico',
        'robots.txt',
        'embed',
        'onboarding',
        'invite',
        'account',
        'help',
        'about',
        'avatar',
        'team',
        'teams',
    }
)


def time_zone(name: str) -> str:
    """An IANA zone name in its canonical spelling (old aliases such as Asia/Calcutta fold into Asia/Kolkata), or
    InvalidInput naming the problem."""
    if not zones.is_known(name):
        raise InvalidInput(f"Unknown time zone '{name[:64]}'. Use an IANA name such as 'Europe/Berlin'.")
    name = zones.canonical(name)
    ZoneInfo(name)
    return name


# Bidirectional embeddings, overrides, isolates and marks: they make text display in another order than it is
# stored (a name that reads differently in a log, a subject or a dashboard).
BIDI_CONTROLS = frozenset('\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069')


def single_line(value: str, field: str, max_length: int) -> str:
    """Trimmed text without line breaks or control characters (no header injection, ever)."""
    if any(ch in value for ch in '\r\n\x00\x85\u2028\u2029'):
        raise InvalidInput(f'{field} must be a single line')
    no_controls(value, field)
    value = value.strip()
    if not value:
        raise InvalidInput(f'{field} must not be empty')
    if len(value) > max_length:
        raise InvalidInput(f'{field} must be at most {max_length} characters')
    return value


def no_controls(value: str, field: str) -> str:
    """Refuse C0 and C1 control characters (ESC, BEL, tab, DEL...) and bidi overrides in one-line text."""
    for ch in value:
        if ch in BIDI_CONTROLS or unicodedata.category(ch) in ('Cc', 'Zl', 'Zp'):
            raise InvalidInput(f'{field} must not contain control characters (found U+{ord(ch):04X})')
    return value


def line(field: str, max_length: int) -> AfterValidator:
    """A pydantic validator for one-line text fields, with `single_line`'s rules and message."""

    def check(value: str) -> str:
        try:
            return single_line(value, field, max_length)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None

    return AfterValidator(check)


def no_controls_field(field: str) -> AfterValidator:
    """A pydantic validator that refuses control characters in a text field that may be empty."""

    def check(value: str) -> str:
        try:
            return no_controls(value, field)
        except InvalidInput as exc:
            raise ValueError(exc.detail) from None

    return AfterValidator(check)


def email(value: str) -> str:
    """A plain e-mail address (no display name, no line breaks)."""
    value = single_line(value, 'E-mail', 254)
    if not EMAIL.match(value):
        raise InvalidInput('E-mail must be an address like name@example.com')
    return value


def username(value: str) -> str:
    """A URL-safe username that does not collide with the app's own paths."""
    value = value.strip().lower()
    if not USERNAME.match(value):
        raise InvalidInput('Username must be 1-40 lowercase letters, digits or hyphens')
    if value in RESERVED_USERNAMES:
        raise InvalidInput(f"The username '{value}' is reserved for a page of CloudMeet itself; choose another")
    return value


def username_problem(value: str | None) -> str | None:
    """What is wrong with a username as it is typed (None when it is fine), for inputs that check as you type."""
    try:
        username(value or '')
    except InvalidInput as exc:
        return exc.detail if exc.detail.endswith('.') else exc.detail + '.'
    return None


def slug(value: str) -> str:
    value = value.strip().lower()
    if not SLUG.match(value):
        raise InvalidInput('Slug must be 1-60 lowercase letters, digits or hyphens')
    return value


def slugify(text: str) -> str:
    """A slug made from a title: '30 Min Intro!' -> '30-min-intro'."""
    return re.sub(r'[^a-z0-9]+', '-', text.lower()).strip('-')[:60].strip('-') or 'meeting'


HEX_COLOR = re.compile(r'^#[0-9a-f]{6}$')


def hex_color(value: object) -> str:
    """'' (the default colour) or a colour like #1d4ed8."""
    text = str(value).strip().lower()
    if text and not HEX_COLOR.match(text):
        raise InvalidInput(f"'{text[:20]}' is not a colour like #1d4ed8")
    return text


ORIGIN = re.compile(r'^https?://[a-z0-9.-]+(:[0-9]{1,5})?$')


def origins(values: object) -> list[str]:
    """Web origins such as https://www.example.com (scheme, host and port only), at most 20."""
    if not isinstance(values, list) or len(values) > 20:
        raise InvalidInput('embed_origins must be a list of at most 20 origins')
    cleaned = []
    for value in values:
        origin = str(value).strip().rstrip('/').lower()
        if not ORIGIN.match(origin):
            raise InvalidInput(f"'{str(value)[:80]}' is not an origin like https://www.example.com")
        cleaned.append(origin)
    return sorted(set(cleaned))


EARLIEST_YEAR, LATEST_YEAR = 1971, 9000
MAX_ID = 2**63 - 1  # the largest id a database column holds; anything bigger names nothing


def storable_id(value: int) -> bool:
    """Whether an id from outside (a path, a query, a body) can name a stored row at all."""
    return 0 < value <= MAX_ID


def within_calendar(instant: datetime) -> bool:
    """Whether an aware instant lies in the years the app offers times in (far-off ones are never offered)."""
    return EARLIEST_YEAR <= instant.year <= LATEST_YEAR


def iso_date(value: str, field: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-12-24, not '{value[:40]}'") from None
    if not EARLIEST_YEAR <= parsed.year <= LATEST_YEAR:
        raise InvalidInput(f'{field} must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}')
    return parsed
