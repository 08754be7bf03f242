"""sd_notify without libsystemd: READY, WATCHDOG, STATUS, STOPPING sent to $NOTIFY_SOCKET."""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def notify(message: str) -> bool:
    """Send one notification; False when not running under systemd (no NOTIFY_SOCKET)."""
    address = os.environ.get("NOTIFY_SOCKET")
    if not address:
        return False
    if address.startswith("@"):
        address = "\0" + address[1:]
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect(address)
            sock.sendall(message.encode())
    except OSError as exc:
        log.warning("sd_notify to %s failed: %s", os.environ.get("NOTIFY_SOCKET"), exc)
        return False
    return True


def watchdog_interval() -> float | None:
    """Half the watchdog timeout systemd asked for (WATCHDOG_USEC), or None without one."""
    usec = os.environ.get("WATCHDOG_USEC")
    pid = os.environ.get("WATCHDOG_PID")
    if not usec or (pid and pid != str(os.getpid())):
        return None
    try:
        return max(int(usec) / 2_000_000, 0.5)
    except ValueError:
        return None


class Watchdog:
    """Pets the systemd watchdog only while ``healthy()`` holds, and keeps STATUS= current."""

    def __init__(self, healthy: Callable[[], bool], status: Callable[[], str]) -> None:
        self._healthy = healthy
        self._status = status
        self._stop = threading.Event()
        self._interval = watchdog_interval()
        self._thread = threading.Thread(target=self._run, name="edgeward-watchdog", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        interval = self._interval or 5.0
        last_status = ""
        while not self._stop.wait(interval):
            status = self._status()
            parts = []
            if status != last_status:
                parts.append(f"STATUS={status}")
                last_status = status
            if self._interval is not None and self._healthy():
                parts.append("WATCHDOG=1")
            elif self._interval is not None:
                log.error("not petting the watchdog: the MQTT loop or the worker is stuck")
            if parts:
                notify("\n".join(parts))
