"""Real heading elements (h1-h3) with plain text, so screen readers get the page outline."""

from __future__ import annotations

from nicegui.elements.mixins.text_element import TextElement


class Heading(TextElement):
    """An <hN> whose content is set as text, never as HTML."""

    def __init__(self, text: str, level: int = 1) -> None:
        super().__init__(tag=f'h{level}', text=text)


def heading(text: str, level: int = 1, classes: str = '') -> Heading:
    return Heading(text, level).classes(classes)
