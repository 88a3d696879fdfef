"""The small vocabulary of domain errors, translated to HTTP or notifications at the edge."""

from app.i18n import N_


class DomainError(Exception):
    """Base of every expected error; its message is safe to show to the user."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(DomainError):
    """A bad argument such as an unknown time zone or a malformed date (HTTP 400)."""


class NotAllowed(DomainError):
    """Missing or wrong credentials (HTTP 401)."""


class NotFound(DomainError):
    """The object does not exist or is not the caller's (HTTP 404)."""


class Moved(NotFound):
    """The host now goes by another username (a released one keeps leading to them): redirect to `username`."""

    def __init__(self, username: str) -> None:
        super().__init__('This host has a new address')
        self.username = username


class Conflict(DomainError):
    """The change collides with stored data: a taken slug, a duplicate username (HTTP 409)."""


class SlotUnavailable(Conflict):
    """The requested time is not offered (any more)."""

    def __init__(self, detail: str = N_('That time is no longer available. Please pick another time.')) -> None:
        super().__init__(detail)


class RateLimited(DomainError):
    """Too many attempts (HTTP 429, with Retry-After when `retry_after` seconds are known)."""

    def __init__(self, detail: str, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency (the database, a calendar provider) cannot answer right now (HTTP 503)."""
