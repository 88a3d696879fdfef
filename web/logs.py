"""Log lines: `text` (the default) or `json` (one object per line: time, level, logger, message, and the request id
inside an HTTP request). Either way, whatever looks like a token, key, password or bearer credential is blanked
before a line is written."""

from __future__ import annotations

import json
import logging
import re
from contextvars import ContextVar
from datetime import datetime, timezone

REQUEST_ID: ContextVar[str] = ContextVar('request_id', default='')  # set by web.telemetry.Telemetry per request
TEXT_FORMAT = '%(asctime)s %(levelname)s %(name)s: %(message)s'
SECRET_PARAMETER = re.compile(
    r'(?i)\b((?:access_|refresh_|id_)?token|code|state|password|secret|api_key|key)=([^&\s\'"]+)'
)
BEARER = re.compile(r'(?i)\b(bearer\s+)[\w.~+/=-]+')


def redact(text: str) -> str:
    """Blank the values of secret-looking parameters (`token=...`) and bearer credentials."""
    return BEARER.sub(r'\1[redacted]', SECRET_PARAMETER.sub(r'\1=[redacted]', text))


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__(TEXT_FORMAT)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            'time': datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec='milliseconds'),
            'level': record.levelname,
            'logger': record.name,
            'message': redact(record.getMessage()),
        }
        if request_id := REQUEST_ID.get():
            entry['request_id'] = request_id
        if record.exc_info:
            entry['exception'] = redact(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False)


def configure(*, level: str, log_format: str) -> None:
    """Log to standard error in the chosen format (unless logging is already configured, as under pytest)."""
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if log_format == 'json' else TextFormatter())
    logging.basicConfig(level=level, handlers=[handler])
    logging.getLogger('alembic').setLevel(logging.WARNING)
