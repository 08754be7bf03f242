"""Starting a private Mosquitto broker: for ``edgeward demo`` when no broker is reachable, and for
the tests, which need to stop, restart and reconfigure theirs."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path


class BrokerError(Exception):
    """Mosquitto is missing or would not start."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def reachable(host: str, port: int, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


class LocalBroker:
    """One ``mosquitto`` process on 127.0.0.1, with persistence in ``workdir`` so sessions and
    queued QoS 1 messages survive a restart, like a real broker's."""

    def __init__(self, workdir: Path, port: int | None = None, extra_config: str = "") -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        if not Path(binary).exists():
            raise BrokerError("mosquitto is not installed (Debian: apt-get install mosquitto)")
        self.binary = binary
        self.workdir = workdir
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.extra_config = extra_config
        self.proc: subprocess.Popen[bytes] | None = None

    def _write_config(self) -> Path:
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(
            f"listener {self.port} {self.host}\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {self.workdir}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 100000\n"
            "max_inflight_messages 0\n"
            "set_tcp_nodelay true\n"
            "log_dest none\n"
            # As root, mosquitto would switch to its own user and lose access to our private
            # (0700) work folder; this broker is ours alone, so it keeps our identity.
            + ("user root\n" if os.geteuid() == 0 else "")
            + f"{self.extra_config}\n"
        )
        return conf

    def start(self, timeout: float = 10.0) -> None:
        conf = self._write_config()
        log_path = self.workdir / "mosquitto.log"
        with open(log_path, "ab") as log:
            self.proc = subprocess.Popen([self.binary, "-c", str(conf)], stdout=log, stderr=log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise BrokerError(f"mosquitto exited with {self.proc.returncode}; see {log_path}")
            if reachable(self.host, self.port, 0.2):
                return
            time.sleep(0.02)
        raise BrokerError(f"mosquitto did not listen on port {self.port} within {timeout}s")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()
