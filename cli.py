"""Operator commands: `python main.py host create|api-key create|team create|demo|migrate`."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone

from sqlmodel import select

from app.config import get_settings
from app.db import migrate, session_scope
from app.errors import DomainError, InvalidInput
from app.models import EventType, Host
from services import accounts, event_types, hosts, teams
from services.event_types import EventTypeInput, Location, Question

COMMANDS = ('host', 'api-key', 'team', 'demo', 'migrate', 'rotate-keys')


def run_cli(argv: Sequence[str]) -> int:
    """Run one command; expected errors print one line to stderr and exit non-zero."""
    args = _parser().parse_args(argv)
    migrate()
    try:
        return int(args.handler(args) or 0)
    except DomainError as exc:
        print(f'error: {exc.detail}', file=sys.stderr)
        return 1


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='python main.py', description='CloudMeet operator commands')
    commands = parser.add_subparsers(required=True, metavar='COMMAND')
    host = commands.add_parser('host', help='manage hosts').add_subparsers(required=True, metavar='ACTION')
    create = host.add_parser('create', help='create a host and print it as JSON')
    create.add_argument('--email', required=True)
    create.add_argument('--name', required=True)
    create.add_argument('--username', required=True)
    create.add_argument('--timezone', default='UTC')
    create.set_defaults(handler=_create_host)
    key = commands.add_parser('api-key', help='manage API keys').add_subparsers(required=True, metavar='ACTION')
    key_create = key.add_parser('create', help='create an API key and print it alone on stdout')
    key_create.add_argument('--username', required=True)
    key_create.add_argument('--label', default='')
    key_create.set_defaults(handler=_create_api_key)
    team = commands.add_parser('team', help='manage teams').add_subparsers(required=True, metavar='ACTION')
    team_create = team.add_parser(
        'create', help='create a team (the first member listed is its admin) and print it as JSON'
    )
    team_create.add_argument('--slug', required=True)
    team_create.add_argument('--name', required=True)
    team_create.add_argument('--members', required=True, help='usernames or e-mails, comma-separated')
    team_create.set_defaults(handler=_create_team)
    demo = commands.add_parser('demo', help='create a demo host with two event types and print its URLs')
    demo.add_argument('--timezone', default='Europe/Berlin')
    demo.set_defaults(handler=_demo)
    commands.add_parser('migrate', help='apply database migrations and exit').set_defaults(handler=lambda _: 0)
    commands.add_parser(
        'rotate-keys', help='re-encrypt every stored token under the newest encryption key'
    ).set_defaults(handler=_rotate_keys)
    return parser


def _create_host(args: argparse.Namespace) -> int:
    with session_scope(write=True) as session:
        host = hosts.create_host(
            session=session, email=args.email, name=args.name, username=args.username, timezone=args.timezone
        )
        assert host.id is not None
        accounts.allow_email_links(session, host_id=host.id, now=datetime.now(timezone.utc))  # the operator vouches
        if not accounts.has_owner(session):  # the first host an operator creates owns the instance
            host.is_owner = True
            session.add(host)
        print(json.dumps(hosts.host_json(host)))
    return 0


def _create_team(args: argparse.Namespace) -> int:
    names = [name.strip() for name in args.members.split(',') if name.strip()]
    if not names:
        raise InvalidInput('--members needs at least one username')
    with session_scope(write=True) as session:
        admin = teams.account(session, names[0])
        assert admin.id is not None
        team = teams.create_team(
            session=session, host_id=admin.id, slug=args.slug, name=args.name, members=tuple(names[1:])
        )
        print(
            json.dumps(
                {
                    'id': team.id,
                    'slug': team.slug,
                    'name': team.name,
                    'members': [m.username for m in teams.members(session=session, team_id=team.id or 0)],
                }
            )
        )
    return 0


def _rotate_keys(_: argparse.Namespace) -> int:
    with session_scope(write=True) as session:
        count = accounts.rotate_keys(session)
    print(f'{count} encrypted values now use the newest key; older keys can be removed from CLOUDMEET_ENCRYPTION_KEYS.')
    return 0


def _create_api_key(args: argparse.Namespace) -> int:
    with session_scope(write=True) as session:
        host = hosts.get_host_by_username(session=session, username=args.username)
        assert host.id is not None
        print(hosts.create_api_key(session=session, host_id=host.id, label=args.label))
    return 0


DEMO_TYPES = (
    EventTypeInput(
        slug='intro',
        title='30 minute intro call',
        duration_minutes=30,
        description='A short first conversation.',
        location=Location(kind='google_meet'),
    ),
    EventTypeInput(
        slug='consultation',
        title='1 hour consultation',
        duration_minutes=60,
        slot_interval_minutes=30,
        buffer_after_minutes=15,
        min_notice_minutes=240,
        description='A longer working session.',
        location=Location(kind='link', value='https://meet.example.com/demo'),
        questions=[Question(id='topic', label='What would you like to discuss?', kind='long_text', required=True)],
    ),
)


def _demo(args: argparse.Namespace) -> int:
    """Create (or reuse) the demo host and print where to book it."""
    with session_scope(write=True) as session:
        host = session.exec(select(Host).where(Host.username == 'demo')).first()
        if host is None:
            host = hosts.create_host(
                session=session, email='demo@example.com', name='Demo Host', username='demo', timezone=args.timezone
            )
        assert host.id is not None
        have = {e.slug for e in session.exec(select(EventType).where(EventType.host_id == host.id))}
        for data in DEMO_TYPES:
            if data.slug not in have:
                event_types.create_event_type(session=session, host_id=host.id, data=data)
        key = hosts.create_api_key(session=session, host_id=host.id, label='demo')
    base = get_settings().public_url
    print(f'Demo host "{host.name}" ({host.timezone}) is ready.\n')
    print(f'  Public page:     {base}/demo')
    for data in DEMO_TYPES:
        print(f'  Booking page:    {base}/demo/{data.slug}')
    print(
        f'  Free times API:  {base}/api/v1/public/demo/intro/slots?start=YYYY-MM-DD&end=YYYY-MM-DD'
        f'&timezone=Europe/London'
    )
    print(f'  API docs:        {base}/api/v1/docs')
    print(f'  Host API key:    {key}   (shown once; try: curl -H "Authorization: Bearer {key}" {base}/api/v1/me)')
    return 0
