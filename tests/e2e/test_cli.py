"""The operator commands, run as an operator runs them: `python main.py ...` on a fresh data directory."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]


def cli(data_dir: Path, *args: str, keys: str = '') -> subprocess.CompletedProcess:
    env = {**os.environ, 'CLOUDMEET_DATA_DIR': str(data_dir), 'CLOUDMEET_DATABASE_URL': ''}
    if keys:
        env['CLOUDMEET_ENCRYPTION_KEYS'] = keys
    return subprocess.run(
        [sys.executable, 'main.py', *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_host_create_prints_json_refuses_duplicates_in_one_line_and_may_sign_in_by_link(tmp_path: Path) -> None:
    made = cli(
        tmp_path,
        'host',
        'create',
        '--email',
        'ada@example.com',
        '--name',
        'Ada',
        '--username',
        'ada',
        '--timezone',
        'Europe/London',
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout)['username'] == 'ada'
    again = cli(tmp_path, 'host', 'create', '--email', 'ada@example.com', '--name', 'Ada', '--username', 'other')
    assert again.returncode == 1 and again.stderr.count('\n') == 1 and 'already exists' in again.stderr
    engine = sa.create_engine(f'sqlite:///{tmp_path / "cloudmeet.sqlite"}')
    with engine.connect() as conn:
        assert conn.execute(sa.text('SELECT provider, subject FROM identity')).all() == [('email', 'ada@example.com')]
    engine.dispose()


def test_rotate_keys_re_encrypts_every_token_so_that_the_old_key_can_be_dropped(tmp_path: Path) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    assert cli(tmp_path, 'demo', keys=old).returncode == 0
    engine = sa.create_engine(f'sqlite:///{tmp_path / "cloudmeet.sqlite"}')
    with engine.begin() as conn:  # a booking with an encrypted manage token, made under the old key
        conn.execute(
            sa.text(
                'INSERT INTO booking (uid, host_id, event_type_id, start_at, end_at, buffer_before_minutes, '
                'buffer_after_minutes, status, sequence, invitee_name, invitee_email, invitee_timezone, notes, '
                'answers, manage_token_hash, manage_token_encrypted, cancel_reason, proposal_message, created_at, '
                'updated_at) '
                "VALUES ('b1', 1, 1, '2030-01-07 09:00:00', '2030-01-07 09:30:00', 0, 0, 'confirmed', 0, 'G', "
                "'g@example.com', 'UTC', '', '{}', 'h', :token, '', '', '2030-01-01 00:00:00', '2030-01-01 00:00:00')"
            ),
            {'token': Fernet(old.encode()).encrypt(b'the-manage-token')},
        )
    rotated = cli(tmp_path, 'rotate-keys', keys=f'{new},{old}')
    assert rotated.returncode == 0 and rotated.stdout.startswith('1 encrypted values'), rotated.stderr
    with engine.connect() as conn:
        stored = conn.execute(sa.text('SELECT manage_token_encrypted FROM booking')).scalar_one()
    engine.dispose()
    assert b'the-manage-token' not in stored  # a database dump holds no usable token
    assert Fernet(new.encode()).decrypt(stored) == b'the-manage-token'  # readable with the new key alone


def test_on_postgresql_a_process_without_the_shared_secrets_refuses_to_start_naming_them(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ('CLOUDMEET_SECRET_KEY', 'CLOUDMEET_ENCRYPTION_KEYS')}
    env |= {
        'CLOUDMEET_DATA_DIR': str(tmp_path),
        'CLOUDMEET_DATABASE_URL': 'postgresql+psycopg://postgres@127.0.0.1:5432/test',
    }
    env.pop('PYTEST_CURRENT_TEST', None)
    for args in ([], ['host', 'create', '--email', 'a@example.com', '--name', 'A', '--username', 'a']):
        run = subprocess.run(
            [sys.executable, 'main.py', *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
        )
        assert run.returncode != 0
        assert 'CLOUDMEET_SECRET_KEY and CLOUDMEET_ENCRYPTION_KEYS' in run.stderr
        assert 'Traceback' not in run.stderr


def test_team_create_prints_the_team_with_its_members_and_unknown_commands_exit_2(tmp_path: Path) -> None:
    for name in ('ada', 'bob'):
        made = cli(
            tmp_path, 'host', 'create', '--email', f'{name}@example.com', '--name', name.title(), '--username', name
        )
        assert made.returncode == 0, made.stderr
    team = cli(tmp_path, 'team', 'create', '--slug', 'crew', '--name', 'Crew', '--members', 'ada,bob')
    assert team.returncode == 0, team.stderr
    printed = json.loads(team.stdout)
    assert (printed['slug'], printed['name'], printed['members']) == ('crew', 'Crew', ['ada', 'bob'])
    again = cli(tmp_path, 'team', 'create', '--slug', 'crew', '--name', 'Crew', '--members', 'bob')
    assert again.returncode == 1 and 'already exists' in again.stderr
    unknown = cli(tmp_path, 'frobnicate')
    assert unknown.returncode == 2 and 'usage' in unknown.stderr
