"""Rate limit of the phone form, keyed on the device key and the campaign, never the IP.

A whole school answers through one NAT address, so an IP limit would refuse hundreds of
honest parents; the device key (the ``rk_dev`` cookie) tells phones apart. One phone may
load or submit a campaign's form ``limit`` times per ``WINDOW`` seconds (``RENKE_DEVICE_LIMIT``,
read into ``Settings``; a person answers once, a few reloads and retries included); beyond
that it gets 429.

The counters are kept in each worker process's memory (a fixed window, keys are a hash
of campaign + device key, nothing stored): consulting a shared store on every answer
would cost a database write per submission at exactly the moment the database is busiest.
The bound is therefore per process: with W workers on I instances one phone can do at
most W x I x limit requests a window, still a small constant. A client that drops its
cookie gets a new device key on every load and is not limited here: its answers are kept
but flagged duplicate only if it keeps the cookie, and one-time codes bound what it can
count (see docs/deployment.md).

New devices are watched per link too: a link that takes answers from more than
``new_device_limit`` devices new to the campaign in a minute (``RENKE_NEW_DEVICE_LIMIT``;
a class chat's parents arriving together stay well below it, a script that drops its
cookie does not) has the answers beyond it flagged ``new_device_burst``: kept, never
refused (an honest parent in a burst must not be lost), counted by the integrity signals.
Counted per process by the batch writer, like the device limit above.
"""

import hashlib
import threading
import time

WINDOW = 60.0
MAX_KEYS = 200_000


class DeviceLimits:
    """The app's counters (one per app: its limits come from its ``Settings``)."""

    def __init__(self, limit: int, new_device_limit: int):
        self.limit, self.new_device_limit = limit, new_device_limit
        self._counts: dict[bytes, list] = {}
        self._new_devices: dict[int | None, list] = {}
        self._lock = threading.Lock()

    def allow(self, campaign_id: int, device_key: str | None) -> bool:
        """Count one request of this device in this campaign; False once over the limit."""
        if not device_key or self.limit <= 0:
            return True
        key = hashlib.blake2b(f"{campaign_id}:{device_key}".encode(), digest_size=16).digest()
        now = time.monotonic()
        with self._lock:
            entry = self._counts.get(key)
            if entry is None or entry[0] <= now:
                if len(self._counts) >= MAX_KEYS:
                    for k in [k for k, v in self._counts.items() if v[0] <= now]:
                        del self._counts[k]
                    if len(self._counts) >= MAX_KEYS:
                        self._counts.clear()
                self._counts[key] = [now + WINDOW, 1]
                return True
            entry[1] += 1
            return entry[1] <= self.limit

    def new_device_burst(self, link_id: int | None) -> bool:
        """Count one answer of a device new to the campaign on this link; True once the link is
        over ``new_device_limit`` such answers in the current minute."""
        if self.new_device_limit <= 0:
            return False
        now = time.monotonic()
        with self._lock:
            entry = self._new_devices.get(link_id)
            if entry is None or entry[0] <= now:
                if len(self._new_devices) >= MAX_KEYS:
                    self._new_devices.clear()
                entry = self._new_devices[link_id] = [now + WINDOW, 0]
            entry[1] += 1
            return entry[1] > self.new_device_limit
