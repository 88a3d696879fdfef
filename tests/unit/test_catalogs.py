"""The gettext catalogs: the template holds every message of the code, every language holds every message of the
template with the same placeholders, and everything an invitee reads is translated."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir, extract_from_file
from babel.messages.pofile import read_po

from app.i18n import DEFAULT_LOCALE, LOCALE_DIR, LOCALES

ROOT = Path(__file__).resolve().parents[2]
TRANSLATED = [code for code in LOCALES if code != DEFAULT_LOCALE]
# What an invitee reads: every message of these files is translated into every language.
INVITEE_FILES = (
    'pages/public.py',
    'pages/manage.py',
    'pages/language.py',
    'components/booking_form.py',
    'components/event_header.py',
    'components/frame.py',
    'components/language_picker.py',
    'components/month_calendar.py',
    'components/slot_picker.py',
    'components/timezone_select.py',
    'services/notifications/templates.py',
    'services/notifications/preferences.py',
    'services/notifications/worker.py',
    'services/public.py',
    'services/availability.py',
    'services/bookings.py',
    'services/use_cases.py',
    'app/errors.py',
    'pages/team_public.py',
)
PLACEHOLDER = re.compile(r'\{[a-z_]*\}')


def _template() -> Catalog:
    with (LOCALE_DIR / 'messages.pot').open('rb') as pot:
        return read_po(pot)


def _catalog(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / 'LC_MESSAGES' / 'messages.po').open('rb') as po:
        return read_po(po, locale=locale)


def _ids(catalog: Catalog) -> set[object]:
    return {message.id for message in catalog if message.id}


def _extracted(paths: list[Path]) -> set[object]:
    found: set[object] = set()
    for path in paths:
        for _line, message, _comments, _context in extract_from_file('python', str(path)):
            found.add(message)
    return found


def test_the_template_holds_exactly_the_messages_of_the_code() -> None:
    """`pybabel extract -F babel.cfg` (see the README) was run after the last change of a message."""
    method_map = [('.venv/**', 'ignore'), ('tests/**', 'ignore'), ('data/**', 'ignore'), ('**.py', 'python')]
    in_code = {message for _file, _line, message, _comments, _context in extract_from_dir(str(ROOT), method_map)}
    assert in_code == _ids(_template())


@pytest.mark.parametrize('locale', TRANSLATED)
def test_every_catalog_holds_every_message_of_the_template(locale: str) -> None:
    catalog = _catalog(locale)
    assert _ids(catalog) == _ids(_template())
    assert not [message.id for message in catalog if message.id and message.fuzzy]


@pytest.mark.parametrize('locale', TRANSLATED)
def test_translations_keep_every_placeholder_of_their_message(locale: str) -> None:
    wrong = []
    for message in _catalog(locale):
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        wrong += [(ids[0], form) for form in forms if form and sorted(PLACEHOLDER.findall(form)) != expected]
    assert not wrong


@pytest.mark.parametrize('locale', TRANSLATED)
def test_everything_an_invitee_reads_is_translated(locale: str) -> None:
    catalog = _catalog(locale)
    invitee = _extracted([ROOT / name for name in INVITEE_FILES])
    assert invitee, 'the invitee files hold messages'
    untranslated = []
    for message_id in invitee:
        message = catalog.get(message_id)
        forms = () if message is None else message.string if isinstance(message.string, tuple) else (message.string,)
        if not forms or not all(forms):
            untranslated.append(message_id)
        elif message is not None and isinstance(message.string, tuple):
            assert len(message.string) == catalog.num_plurals, message_id  # Polish needs three forms
    assert not untranslated
