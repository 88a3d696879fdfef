"""One-line text refuses control characters and bidi overrides (they would reach logs, headers and pages)."""

from __future__ import annotations

import pytest

from app.errors import InvalidInput
from services import validation

REFUSED = {
    'escape': 'Ada\x1b[31m Lovelace',
    'bell': 'Ada\x07',
    'tab': 'Ada\tLovelace',
    'delete': 'Ada\x7f',
    'C1 next line': 'Ada\x85Lovelace',
    'C1 CSI': 'Ada\x9b31m',
    'right-to-left override': 'Ada \u202egnp.exe',
    'left-to-right embedding': '\u202aAda',
    'pop directional formatting': 'Ada\u202c',
    'first strong isolate': 'Ada \u2068x\u2069',
    'right-to-left mark': 'Ada\u200f',
    'arabic letter mark': 'Ada\u061c',
    'line separator': 'Ada\u2028Lovelace',
    'paragraph separator': 'Ada\u2029Lovelace',
    'carriage return': 'Ada\rBcc: x@example.com',
    'nul': 'Ada\x00',
}


@pytest.mark.parametrize('text', REFUSED.values(), ids=REFUSED.keys())
def test_a_name_with_a_control_character_is_refused_with_a_reason(text: str) -> None:
    with pytest.raises(InvalidInput, match='Name must'):
        validation.single_line(text, 'Name', 120)


@pytest.mark.parametrize('text', ['Zoë Ångström', 'محمد', 'José 👩‍💻', 'می‌خواهم', '  Ada  '])
def test_ordinary_names_in_any_script_are_kept(text: str) -> None:
    assert validation.single_line(text, 'Name', 120) == text.strip()


def test_an_e_mail_address_with_an_escape_is_refused() -> None:
    with pytest.raises(InvalidInput):
        validation.email('ada\x1b@example.com')
