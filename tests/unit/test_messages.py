"""Validation errors read as sentences that name the field."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from services.event_types import EventTypeInput
from services.messages import sentence

NAMES = {'title': 'Title', 'duration_minutes': 'Duration', 'slug': 'URL slug', 'max_days_ahead': 'Bookable up to'}


def messages(**fields: object) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        EventTypeInput.model_validate({'title': 'Call', **fields})
    return [sentence(e, NAMES) for e in caught.value.errors()]


@pytest.mark.parametrize(
    ('fields', 'expected'),
    [
        ({'title': ''}, 'Enter a title.'),
        ({'title': 'x' * 121}, 'Title must be at most 120 characters.'),
        ({'duration_minutes': 2}, 'Duration must be at least 5.'),
        ({'duration_minutes': 'soon'}, 'Duration must be a whole number.'),
        ({'max_days_ahead': 5000}, 'Bookable up to must be at most 730.'),
    ],
)
def test_each_mistake_is_one_sentence_naming_the_field(fields: dict, expected: str) -> None:
    assert messages(**fields) == [expected]


def test_no_message_is_pydantics_own_wording() -> None:
    for text in messages(title='', duration_minutes=2):
        assert 'should' not in text and 'String' not in text and text.endswith('.')
