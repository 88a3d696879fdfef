"""A real Chromium with a German browser language: the booking page, its `lang`, the booking and the manage page in
German; a language chosen with the picker is remembered by the browser for the next visit."""

from __future__ import annotations

import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_browser import booking_server, browser  # noqa: F401 (fixtures)

GERMAN_TIME = re.compile(r'^(?:(?:Mon|Diens|Donners|Frei|Sams|Sonn)tag|Mittwoch), \d{1,2}\. \S+ \d{4}, \d{2}:\d{2}$')


def german_page(browser: Browser) -> Page:  # noqa: F811
    context = browser.new_context(
        viewport={'width': 1200, 'height': 900}, timezone_id='Europe/Berlin', locale='de-DE'
    )  # Chromium sends Accept-Language: de-DE
    return context.new_page()


def test_a_german_browser_books_in_german(browser: Browser, booking_server: str, tmp_path: Path) -> None:  # noqa: F811
    page = german_page(browser)
    page.goto(f'{booking_server}/ada/call')
    expect(page.get_by_role('heading', name='Datum und Uhrzeit wählen')).to_be_visible()
    expect(page.locator('html')).to_have_attribute('lang', 'de')
    expect(page.get_by_role('combobox', name='Zeitzone')).to_have_value(re.compile('Berlin'), timeout=10000)
    first_time = page.get_by_role('button', name=GERMAN_TIME).first
    expect(first_time).to_be_visible(timeout=10000)
    page.screenshot(path=str(tmp_path / 'buchung.png'), full_page=True)
    first_time.click()
    expect(page.get_by_role('heading', name='Ihre Angaben')).to_be_visible()
    page.get_by_label('Ihr Name *').fill('Grete Hopper')
    page.get_by_label('E-Mail *').fill('grete@example.com')
    page.get_by_role('button', name='Buchung bestätigen').click()
    expect(page.get_by_role('heading', name='Ihr Termin steht')).to_be_visible(timeout=10000)
    expect(page.get_by_text('Zeitzone: Berlin')).to_be_visible()
    expect(page.get_by_role('button', name='Termin absagen')).to_be_visible()
    page.screenshot(path=str(tmp_path / 'bestaetigung.png'), full_page=True)
    page.context.close()


def test_a_language_chosen_with_the_picker_is_remembered(browser: Browser, booking_server: str) -> None:  # noqa: F811
    page = german_page(browser)
    page.goto(f'{booking_server}/ada')
    expect(page.get_by_text('Intro call')).to_be_visible()
    page.get_by_role('combobox', name='Sprache').click()
    page.get_by_role('option', name='français').click()
    expect(page).to_have_url(re.compile(r'lang=fr'), timeout=10000)
    expect(page.locator('html')).to_have_attribute('lang', 'fr')
    page.goto(f'{booking_server}/ada/call')  # no ?lang= any more: the browser remembers the choice
    expect(page.get_by_role('heading', name='Choisissez une date et une heure')).to_be_visible(timeout=10000)
    expect(page.locator('html')).to_have_attribute('lang', 'fr')
    page.context.close()
