"""Times as the calendar providers' wire formats spell them."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_z(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z` and whole seconds: `2026-03-02T09:00:00Z`."""
    return moment.astimezone(timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')
