"""A host's description in a safe subset of Markdown: paragraphs, bullet and numbered lists, **bold**, *italic*,
`code` and [links](https://...). Built from text elements, never from HTML, so nothing typed can run or inject
markup; links are http(s) or mailto only and open in a new tab."""

from __future__ import annotations

import re

from nicegui import ui
from nicegui.elements.mixins.text_element import TextElement

INLINE = re.compile(
    r'\*\*(?P<bold>.+?)\*\*|(?<![\w*])\*(?P<italic>[^*\s][^*]*?)\*(?![\w*])|`(?P<code>[^`]+)`'
    r'|\[(?P<label>[^\]]+)\]\((?P<url>[^)\s]+)\)'
)
ITEM = re.compile(r'^\s*(?:[-*+]|\d+[.)])\s+')
SAFE_URL = re.compile(r'^(https?://|mailto:)', re.IGNORECASE)


class _Text(TextElement):
    def __init__(self, tag: str, text: str) -> None:
        super().__init__(tag=tag, text=text)


def rich_text(source: str) -> ui.element:
    """Render `source` (a host's description) as paragraphs and lists."""
    with ui.element('div').classes('text-slate-700 flex flex-col gap-2') as root:
        for block in re.split(r'\n\s*\n', source.strip()):
            lines = [line for line in block.splitlines() if line.strip()]
            if lines and all(ITEM.match(line) for line in lines):
                ordered = bool(re.match(r'^\s*\d', lines[0]))
                with ui.element('ol' if ordered else 'ul').classes(
                    'm-0 pl-6 ' + ('list-decimal' if ordered else 'list-disc')
                ):
                    for line in lines:
                        with ui.element('li'):
                            _inline(ITEM.sub('', line, count=1))
            elif lines:
                with ui.element('p').classes('m-0 whitespace-pre-line break-words'):
                    _inline('\n'.join(lines))
    return root


def _inline(text: str) -> None:
    position = 0
    for match in INLINE.finditer(text):
        if match.start() > position:
            _Text('span', text[position : match.start()])
        if match['bold']:
            _Text('strong', match['bold'])
        elif match['italic']:
            _Text('em', match['italic'])
        elif match['code']:
            _Text('code', match['code']).classes('bg-slate-100 rounded px-1')
        elif SAFE_URL.match(match['url']):
            ui.link(match['label'], match['url'], new_tab=True).props('rel="noopener nofollow"')
        else:  # any other scheme (javascript:, data:...) stays text
            _Text('span', match[0])
        position = match.end()
    if position < len(text):
        _Text('span', text[position:])


def plain_text(source: str) -> str:
    """The description without its Markdown marks (for one-line summaries)."""

    def unmark(match: re.Match[str]) -> str:
        return match['bold'] or match['italic'] or match['code'] or match['label'] or match[0]

    return '\n'.join(INLINE.sub(unmark, ITEM.sub('• ', line, count=1)) for line in source.splitlines())
