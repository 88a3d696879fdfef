"""The OpenAPI document describes every answer: each operation's success body and its errors' `{"detail"}` bodies."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

METHODS = ('get', 'put', 'post', 'patch', 'delete')
WORDS_ONLY = {'title', 'description', 'examples', 'default'}  # keys that describe a schema without constraining it


def operations(document: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in document['paths'].items():
        for method in METHODS:
            if method in item:
                yield f'{method.upper()} {path}', item[method]


def empty_schemas(schema: Any, document: dict[str, Any], where: str, seen: set[str]) -> Iterator[str]:
    """Places under `schema` (following $refs) that say nothing about their value, like `{}`."""
    if not isinstance(schema, dict):
        return
    if '$ref' in schema:
        name = schema['$ref'].rsplit('/', 1)[-1]
        if name not in seen:
            seen.add(name)
            yield from empty_schemas(document['components']['schemas'][name], document, name, seen)
        return
    if not set(schema) - WORDS_ONLY:
        yield where
    for key in ('items', 'additionalProperties'):
        if isinstance(schema.get(key), dict):
            yield from empty_schemas(schema[key], document, f'{where}.{key}', seen)
    for name, value in schema.get('properties', {}).items():
        yield from empty_schemas(value, document, f'{where}.{name}', seen)
    for value in schema.get('anyOf', []) + schema.get('allOf', []):
        yield from empty_schemas(value, document, where, seen)


def body_schema(response: dict[str, Any]) -> dict[str, Any]:
    return response['content']['application/json']['schema']


def test_every_operation_documents_its_success_body_with_a_schema(client: TestClient) -> None:
    document = client.get('/openapi.json').json()
    assert len(list(operations(document))) >= 28
    for name, operation in operations(document):
        successes = {code: r for code, r in operation['responses'].items() if code.startswith('2')}
        assert successes, name
        for code, response in successes.items():
            if code == '204':
                assert 'content' not in response, name
                continue
            schema = body_schema(response)
            assert schema, name
            assert list(empty_schemas(schema, document, name, set())) == [], name


def test_errors_are_documented_as_detail_bodies_never_the_frameworks_own(client: TestClient) -> None:
    document = client.get('/openapi.json').json()
    assert 'HTTPValidationError' not in document['components']['schemas']
    assert document['components']['schemas']['Problem']['required'] == ['detail']
    for name, operation in operations(document):
        errors = {code: r for code, r in operation['responses'].items() if code[0] in '45'}
        assert '503' in errors, name
        if not name.split()[1].startswith('/public/'):
            assert '401' in errors, name
        if operation.get('parameters') or operation.get('requestBody'):
            assert body_schema(errors['422']) == {'$ref': '#/components/schemas/InvalidRequest'}, name
        for code, response in errors.items():
            assert body_schema(response)['$ref'].endswith(('/Problem', '/InvalidRequest')), (name, code)


def test_a_patch_body_is_typed_and_the_booking_answers_are_the_models(client: TestClient) -> None:
    paths = client.get('/openapi.json').json()['paths']
    assert body_schema(paths['/me']['patch']['requestBody']) == {'$ref': '#/components/schemas/HostUpdate'}
    event_type = paths['/event-types/{event_type_id}']
    assert body_schema(event_type['patch']['requestBody']) == {'$ref': '#/components/schemas/EventTypeUpdate'}
    booked = paths['/public/{username}/{slug}/bookings']['post']['responses']['201']
    assert body_schema(booked) == {'$ref': '#/components/schemas/InviteeBookingPublic'}


def test_a_partial_change_touches_only_the_fields_sent(client: TestClient, ada: dict) -> None:
    url = f'/event-types/{ada["call"].id}'
    limited = client.patch(url, headers=ada['auth'], json={'daily_limit': 3}).json()
    assert limited['daily_limit'] == 3 and limited['title'] == ada['call'].title
    cleared = client.patch(url, headers=ada['auth'], json={'daily_limit': None})
    assert cleared.status_code == 200 and cleared.json()['daily_limit'] is None
    renamed = client.patch('/me', headers=ada['auth'], json={'name': 'Ada Lovelace', 'intro': None})
    assert renamed.status_code == 200 and renamed.json()['name'] == 'Ada Lovelace'


def test_an_invalid_body_reads_as_the_editors_sentences_at_each_field(client: TestClient, ada: dict) -> None:
    r = client.patch(
        f'/event-types/{ada["call"].id}',
        headers=ada['auth'],
        json={'duration_minutes': 2, 'location': {'kind': 'carrier_pigeon'}},
    )
    assert r.status_code == 422
    assert r.json()['errors'] == [
        {'field': 'duration_minutes', 'message': 'Duration minutes must be at least 5.'},
        {'field': 'location.kind', 'message': 'Choose one of the offered options for location.'},
    ]
    assert r.json()['detail'] == (
        'Invalid request: duration_minutes: Duration minutes must be at least 5.; '
        'location.kind: Choose one of the offered options for location.'
    )
