"""The latency model and the in-flight (concurrency) counters every emulator shares.

Latency: the real clouds take hundreds of milliseconds per call, more for a batch that
carries many sub-requests. `Latency(base, per_sub_request)` makes an emulator sleep
`base + per_sub_request * sub-requests` per call, *outside* the emulator's lock, so
concurrent calls overlap as they would against the real service. It is off (0, 0) by
default: the test suite runs at full speed; benchmarks switch it on.

Concurrency: `InFlight` counts, per key (a mailbox, a user, an org), the requests being
served right now and remembers the peak, so a test can assert that a client never had more
in flight than the service allows. An emulator decides what a key and a request's cost are
and what a refusal looks like (see `Emulator.concurrency_*`); this module only counts.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Latency:
    """Seconds one call takes: `base` per HTTP call plus `per_sub_request` per inner request
    of a $batch / multipart batch / composite call."""

    base: float = 0.0
    per_sub_request: float = 0.0

    def __post_init__(self) -> None:
        if self.base < 0 or self.per_sub_request < 0:
            raise ValueError("latency must not be negative")

    @property
    def off(self) -> bool:
        return self.base == 0 and self.per_sub_request == 0

    def seconds(self, sub_requests: int) -> float:
        return self.base + self.per_sub_request * max(sub_requests, 0)


@dataclass
class Grant:
    """What `InFlight.enter` handed out: `granted` of the `wanted` slots under `key`."""

    key: str
    wanted: int
    granted: int
    token: int

    @property
    def short(self) -> int:
        return self.wanted - self.granted


@dataclass
class InFlight:
    """Requests in flight per key, with the peak each key ever reached.

    `limit=None` only counts. With a limit, `enter` grants at most `limit - current` slots;
    `long_running_after > 0` counts only requests that have been running at least that long
    against the limit (Salesforce's rule: only calls of 20 s or more are capped)."""

    _lock: threading.Lock = field(default_factory=threading.Lock)
    _current: Counter[str] = field(default_factory=Counter)
    _peak: Counter[str] = field(default_factory=Counter)
    _started: dict[int, tuple[str, int, float]] = field(default_factory=dict)
    _tokens: int = 0

    def enter(
        self, key: str, wanted: int = 1, limit: int | None = None, long_running_after: float = 0
    ) -> Grant:
        with self._lock:
            now = time.monotonic()
            if limit is None:
                granted = wanted
            elif long_running_after > 0:
                busy = sum(
                    n
                    for k, n, started in self._started.values()
                    if k == key and now - started >= long_running_after
                )
                granted = wanted if busy < limit else 0
            else:
                granted = max(0, min(wanted, limit - self._current[key]))
            self._tokens += 1
            if granted:
                self._current[key] += granted
                self._peak[key] = max(self._peak[key], self._current[key])
                self._started[self._tokens] = (key, granted, now)
            return Grant(key, wanted, granted, self._tokens)

    def leave(self, grant: Grant) -> None:
        with self._lock:
            if self._started.pop(grant.token, None) is not None:
                self._current[grant.key] -= grant.granted

    def current(self, key: str) -> int:
        with self._lock:
            return self._current[key]

    def peak(self, key: str) -> int:
        with self._lock:
            return self._peak[key]

    def peaks(self) -> dict[str, int]:
        with self._lock:
            return {k: v for k, v in self._peak.items() if v}

    def reset_peaks(self) -> None:
        with self._lock:
            self._peak = Counter(self._current)
