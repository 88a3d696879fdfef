"""WCAG contrast: a host's brand colour, darkened just enough to carry white text and read on white (AA, 4.5:1)."""

from __future__ import annotations

AA = 4.5


def contrast_ratio(a: str, b: str) -> float:
    """The WCAG 2 contrast ratio of two #rrggbb colours (1 to 21)."""
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def accessible_brand(color: str, fallback: str) -> str:
    """`color` if white on it meets AA, else the nearest darker shade that does; `fallback` when unset."""
    if not color:
        return fallback
    r, g, b = _rgb(color)
    for step in range(101):
        scale = 1 - step / 100
        shade = f'#{round(r * scale):02x}{round(g * scale):02x}{round(b * scale):02x}'
        if contrast_ratio(shade, '#ffffff') >= AA:
            return shade
    return '#000000'


def _rgb(color: str) -> tuple[int, int, int]:
    value = color.lstrip('#')
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _luminance(color: str) -> float:
    def channel(c: int) -> float:
        s = c / 255
        return s / 12.92 if s <= 0.04045 else ((s + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in _rgb(color))
    return 0.2126 * r + 0.7152 * g + 0.0722 * b
