"""The host's brand colour is kept when it meets WCAG AA with white, and darkened just enough when not."""

import pytest

from services.contrast import accessible_brand, contrast_ratio


def test_contrast_ratio_matches_the_wcag_reference_values() -> None:
    assert contrast_ratio('#000000', '#ffffff') == pytest.approx(21.0)
    assert contrast_ratio('#ffffff', '#ffffff') == pytest.approx(1.0)
    assert contrast_ratio('#767676', '#ffffff') == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize('brand', ['#ffff00', '#22c55e', '#f97316', '#38bdf8', '#ffffff'])
def test_light_brand_colours_are_darkened_until_white_text_on_them_reaches_aa(brand: str) -> None:
    adjusted = accessible_brand(brand, '#1d4ed8')
    assert adjusted != brand
    assert contrast_ratio(adjusted, '#ffffff') >= 4.5
    assert contrast_ratio(adjusted, '#ffffff') < 4.8  # no darker than needed


def test_dark_enough_colours_are_kept_and_no_colour_means_the_default() -> None:
    assert accessible_brand('#1d4ed8', '#000000') == '#1d4ed8'
    assert accessible_brand('', '#1d4ed8') == '#1d4ed8'


def test_toasts_and_badges_carry_white_text_at_aa_contrast() -> None:
    from components.design import STATUS_COLOURS

    for name, colour in STATUS_COLOURS.items():
        assert contrast_ratio(colour, '#ffffff') >= 4.5, name
