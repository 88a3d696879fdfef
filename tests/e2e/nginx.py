"""The shipped nginx site (deploy/nginx/cloudmeet.conf) run by a real nginx on local ports: only its addresses,
ports, certificate and log paths are replaced. Used by tests/e2e/test_scale_out.py and
tests/bench/bench_scale_out.py."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import httpx

from tests.e2e.server import ROOT
from tests.fakes import tls

SITE = ROOT / 'deploy' / 'nginx' / 'cloudmeet.conf'
NGINX = shutil.which('nginx') or next((p for p in ('/usr/sbin/nginx',) if Path(p).exists()), None)


def render_site(
    template: str, *, upstreams: list[int], http_port: int, https_port: int, certificate: Path, key: Path, logs: Path
) -> str:
    """The shipped site for these ports; every replaced line must be there exactly as expected."""
    replacements = [
        ('server 127.0.0.1:8001 ', f'server 127.0.0.1:{upstreams[0]} ', 1),
        ('server 127.0.0.1:8002 ', f'server 127.0.0.1:{upstreams[1]} ', 1),
        ('listen 80;', f'listen 127.0.0.1:{http_port};', 1),
        ('listen 443 ssl;', f'listen 127.0.0.1:{https_port} ssl;', 1),
        ('/etc/nginx/tls/cloudmeet.crt', str(certificate), 1),
        ('/etc/nginx/tls/cloudmeet.key', str(key), 1),
        ('/var/log/nginx/', f'{logs}/', 2),
    ]
    for old, new, count in replacements:
        assert template.count(old) == count, f'{SITE.name}: expected {old!r} {count} time(s); the test renders it'
        template = template.replace(old, new)
    return template


def write_config(
    nginx_dir: Path, *, upstreams: list[int], http_port: int, https_port: int, worker_connections: int = 512
) -> None:
    """nginx.conf in nginx_dir: one worker, everything (pid, temp files, logs) inside nginx_dir, and the shipped
    site for these ports. Two upstreams may name the same port (one process behind the same site)."""
    crt, key = tls.self_signed(nginx_dir)
    (nginx_dir / 'cloudmeet.conf').write_text(
        render_site(
            SITE.read_text(),
            upstreams=upstreams,
            http_port=http_port,
            https_port=https_port,
            certificate=crt,
            key=key,
            logs=nginx_dir,
        )
    )
    temp = ''.join(
        f'    {kind}_temp_path {nginx_dir}/{kind};\n' for kind in ('client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi')
    )
    user = f'user {os.environ.get("USER", "root")};\n' if os.geteuid() == 0 else ''
    (nginx_dir / 'nginx.conf').write_text(
        f'{user}worker_processes 1;\npid {nginx_dir}/nginx.pid;\nerror_log {nginx_dir}/error.log warn;\n'
        f'events {{ worker_connections {worker_connections}; }}\nhttp {{\n{temp}    access_log off;\n'
        f'    include {nginx_dir}/cloudmeet.conf;\n}}\n'
    )


def start(nginx_dir: Path) -> subprocess.Popen:
    """nginx in the foreground on nginx_dir's nginx.conf (its output in nginx.out); terminate() stops it."""
    assert NGINX is not None, "no nginx found (Debian's nginx package)"
    with (nginx_dir / 'nginx.out').open('w') as out:
        return subprocess.Popen(
            [str(NGINX), '-p', str(nginx_dir), '-c', str(nginx_dir / 'nginx.conf'), '-g', 'daemon off;'],
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def wait_until_serving(proxy: str, nginx: subprocess.Popen, nginx_dir: Path, seconds: float = 10) -> None:
    """Until /healthz answers 200 through the proxy; an AssertionError if nginx exits meanwhile."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert nginx.poll() is None, f'nginx exited: {(nginx_dir / "nginx.out").read_text()}'
        try:
            if httpx.get(proxy + '/healthz', verify=False, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)


def access_log(nginx_dir: Path) -> list[str]:
    """The site's access log (its format names the upstream that answered and the route cookie's value)."""
    return (nginx_dir / 'cloudmeet.access.log').read_text().splitlines()
