"""Running the service as a process: signals, systemd notifications, watchdog, metrics endpoint."""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

from edgeward.daemon.service import Service
from edgeward.daemon.settings import Settings
from edgeward.daemon.systemd_notify import Watchdog, notify

log = logging.getLogger(__name__)


def run_service(settings: Settings) -> int:
    """Serve until SIGTERM or SIGINT; return the process exit code."""
    service = Service(settings)
    if settings.metrics.enabled:
        service.metrics.serve(settings.metrics.host, settings.metrics.port)
        log.info("metrics on http://%s:%d/metrics", settings.metrics.host, settings.metrics.port)

    def stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s received: finishing in-flight work", signal.Signals(signum).name)
        notify("STOPPING=1")
        service.stop()

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
    watchdog = Watchdog(service.healthy, service.summary)
    watchdog.start()

    def ready() -> None:
        notify(f"READY=1\nSTATUS={service.summary()}")
        log.info("ready: %s", service.summary(), extra={"event": "ready"})

    log.info(
        "edgeward starting: gateway %s, broker %s:%d, state in %s",
        settings.gateway_id,
        settings.mqtt.host,
        settings.mqtt.port,
        settings.state_dir,
    )
    try:
        service.run(on_ready=ready)
    finally:
        watchdog.stop()
    log.info("stopped cleanly")
    return 0
