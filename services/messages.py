"""Validation errors as sentences a person reads at the field: 'Enter a title.', not 'String should have at least
1 character'."""

from __future__ import annotations

from pydantic_core import ErrorDetails


def field_of(error: ErrorDetails) -> str:
    """The top-level field an error belongs to ('' for the whole form)."""
    where = [str(part) for part in error.get('loc', ()) if part not in ('__root__', 'body')]
    return where[0] if where else ''


def sentence(error: ErrorDetails, names: dict[str, str]) -> str:
    """One pydantic error as a sentence naming the field by its label in `names`."""
    field = field_of(error)
    name = names.get(field, field.replace('_', ' ').capitalize())
    ctx, kind = error.get('ctx') or {}, error.get('type', '')
    if kind in ('missing', 'string_too_short') and ctx.get('min_length', 1) <= 1:
        return f'Enter {_article(name.lower())}.'
    if kind == 'string_too_short':
        return f'{name} must be at least {ctx["min_length"]} characters.'
    if kind == 'string_too_long':
        return f'{name} must be at most {ctx["max_length"]} characters.'
    if kind in ('greater_than_equal', 'greater_than'):
        return f'{name} must be at least {ctx.get("ge", ctx.get("gt"))}.'
    if kind in ('less_than_equal', 'less_than'):
        return f'{name} must be at most {ctx.get("le", ctx.get("lt"))}.'
    if kind in ('int_parsing', 'int_type', 'int_from_float'):
        return f'{name} must be a whole number.'
    if kind == 'string_pattern_mismatch':
        return f'{name} may use only lowercase letters, digits and dashes.'
    if kind == 'literal_error':
        return f'Choose one of the offered options for {name.lower()}.'
    message = str(error.get('msg', 'is not valid')).removeprefix('Value error, ')
    message = message[0].upper() + message[1:] if message else 'This is not valid'
    return message if message.endswith('.') else message + '.'


def _article(noun: str) -> str:
    return f'an {noun}' if noun[:1] in 'aeiou' else f'a {noun}'
