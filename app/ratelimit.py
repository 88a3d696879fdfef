"""A small in-process sliding-window limiter for guessable endpoints (manage tokens, sign-in links)."""
from __future__ import annotations

import threading
import time
from collections import defaultdict, deque


class RateLimiter:
    """At most `limit` events per `window` seconds for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit, self.window = limit, window
        self._events: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._prune(key)) >= self.limit

    def hit(self, key: str) -> None:
        with self._lock:
            self._prune(key).append(time.monotonic())

    def reset(self) -> None:
        with self._lock:
            self._events.clear()

    def _prune(self, key: str) -> deque[float]:
        events, horizon = self._events[key], time.monotonic() - self.window
        while events and events[0] < horizon:
            events.popleft()
        return events


class TokenGuesses:
    """Wrong manage tokens, counted per booking and client address (and, more loosely, per address across bookings).
    Only wrong guesses are refused once over the limit: the right token always works, so nobody sharing an address
    with a guesser, nor the guesser, can lock the real invitee out."""

    def __init__(self, *, per_booking: int = 20, per_address: int = 200, window: float = 600) -> None:
        self.booking = RateLimiter(limit=per_booking, window=window)
        self.address = RateLimiter(limit=per_address, window=window)

    def wrong(self, uid: str, address: str) -> bool:
        """Count one wrong token; whether this booking (or this address) is now over its limit (answer 429)."""
        key = f'{address} {uid[:100]}'
        over = self.booking.blocked(key) or self.address.blocked(address)
        self.booking.hit(key)
        self.address.hit(address)
        return over

    def reset(self) -> None:
        self.booking.reset()
        self.address.reset()


# Wrong manage tokens, shared by the API and the manage pages: 20 per booking and address in 10 minutes.
manage_token_guesses = TokenGuesses()

# Sign-in link requests per client address: 10 in 15 minutes (and at most 3 links per address, see accounts).
login_link_requests = RateLimiter(limit=10, window=900)
