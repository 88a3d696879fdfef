"""The shipped deployment files (deploy/) name only settings the app reads, and the health check they rely on.

nginx's site runs for real in tests/e2e/test_scale_out.py; the container image and the systemd units cannot run
here (no container daemon or init system in the test machine), so what they say is checked against the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.config import Settings

DEPLOY = Path(__file__).resolve().parents[2] / 'deploy'
FILES = sorted(p for p in DEPLOY.rglob('*') if p.is_file() and p.suffix not in {'.crt', '.key', '.pem'})


@pytest.mark.parametrize('path', FILES, ids=lambda p: str(p.relative_to(DEPLOY)))
def test_every_setting_a_deployment_file_names_is_one_the_app_reads(path: Path) -> None:
    named = set(re.findall(r'\bCLOUDMEET_([A-Z0-9_]+)', path.read_text()))
    known = {name.upper() for name in Settings.model_fields}
    assert named - known == set(), f'{path.name} names settings the app does not read'


def test_the_image_and_compose_check_readiness_at_a_path_the_app_serves() -> None:

    from api import create_api

    dockerfile = (DEPLOY / 'Dockerfile').read_text()
    assert "'http://127.0.0.1:8080/readyz'" in dockerfile and 'CLOUDMEET_PORT=8080' in dockerfile
    routes = {getattr(route, 'path', '') for route in create_api().routes}
    assert '/readyz' in routes or any(p.endswith('/readyz') for p in routes), routes


def test_compose_runs_two_app_processes_on_one_database_behind_the_shipped_nginx_site() -> None:
    compose = (DEPLOY / 'compose.yaml').read_text()
    services = set(re.findall(r'^  ([a-z0-9]+):', compose, flags=re.MULTILINE))
    assert {'postgres', 'app1', 'app2', 'nginx'} <= services, services
    assert 'app1: *app' in compose and 'app2: *app' in compose  # one definition: settings, data dir, image
    # nginx runs the shipped site with its upstream and log lines replaced by sed: each must be there to replace
    site = (DEPLOY / 'nginx' / 'cloudmeet.conf').read_text()
    patterns = [pattern for _, pattern in re.findall(r"-e 's([/#])(.+?)\1", compose[compose.index('sed -e') :])]
    assert len(patterns) == 4, patterns  # two upstreams, two logs
    for pattern in patterns:
        assert re.search(pattern, site), f'the site has no line matching {pattern!r}: compose would leave it'
