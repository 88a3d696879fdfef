"""Time zones as invitees look for them: by city, country, abbreviation or offset; aliases fold."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app.errors import InvalidInput
from components.timezone_select import zone_options
from services import validation, zones

WINTER = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


def matches(needle: str) -> set[str]:
    """What the picker's filter (case-insensitive substring of the label) shows for a typed text."""
    return {z for z, text in zone_options(WINTER).items() if needle.lower() in text.lower()}


@pytest.mark.parametrize('typed', ['Tokyo', 'tokyo', 'Japan', 'JST', '+09'])
def test_tokyo_is_found_by_city_country_abbreviation_and_offset(typed: str) -> None:
    assert 'Asia/Tokyo' in matches(typed)


@pytest.mark.parametrize(
    ('typed', 'zone'),
    [
        ('Berlin', 'Europe/Berlin'),
        ('Germany', 'Europe/Berlin'),
        ('CET', 'Europe/Berlin'),
        ('New York', 'America/New_York'),
        ('EST', 'America/New_York'),
        ('India', 'Asia/Kolkata'),
        ('+05:45', 'Asia/Kathmandu'),
        ('Buenos Aires', 'America/Argentina/Buenos_Aires'),
    ],
)
def test_other_places_are_found_the_same_ways(typed: str, zone: str) -> None:
    assert zone in matches(typed)


def test_each_place_is_listed_once_under_its_canonical_name() -> None:
    names = zone_options(WINTER)
    assert 'Asia/Kolkata' in names and 'Asia/Calcutta' not in names
    assert 'Asia/Kathmandu' in names and 'Asia/Katmandu' not in names
    assert 'US/Eastern' not in names and 'UTC' in names


@pytest.mark.parametrize(
    ('alias', 'canonical'),
    [
        ('Asia/Calcutta', 'Asia/Kolkata'),
        ('Asia/Katmandu', 'Asia/Kathmandu'),
        ('US/Eastern', 'America/New_York'),
        ('Etc/UTC', 'UTC'),
    ],
)
def test_old_aliases_are_accepted_and_stored_under_their_canonical_names(alias: str, canonical: str) -> None:
    assert validation.time_zone(alias) == canonical


def test_an_unknown_zone_is_still_refused_with_a_readable_message() -> None:
    with pytest.raises(InvalidInput, match="Unknown time zone 'Mars/Olympus'"):
        validation.time_zone('Mars/Olympus')


def test_labels_read_as_city_country_abbreviation_offset() -> None:
    assert zones.search_text('Asia/Tokyo', WINTER) == 'Tokyo · Japan · JST · UTC+09:00'
    assert zones.search_text('Asia/Kathmandu', WINTER) == 'Kathmandu · Nepal · UTC+05:45'
