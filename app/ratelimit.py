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


# Wrong manage tokens per client address, shared by the API and the manage pages: 20 in 10 minutes.
manage_token_guesses = RateLimiter(limit=20, window=600)

# Sign-in link requests per client address: 10 in 15 minutes (and at most 3 links per address, see accounts).
login_link_requests = RateLimiter(limit=10, window=900)
