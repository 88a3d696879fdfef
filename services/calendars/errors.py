"""What can go wrong when asking a calendar provider."""

from __future__ import annotations


class ProviderError(Exception):
    """The provider could not answer (outage, timeout, bad data); the message is safe to show to the host."""


class ReconnectNeeded(ProviderError):
    """The provider refused the stored grant (`invalid_grant`): the host must connect the calendar again."""
