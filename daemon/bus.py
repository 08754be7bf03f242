"""The MQTT session: a persistent MQTT 5 session with the broker, and nothing else.

paho-mqtt's network loop runs in its own thread. Its callbacks only hand messages to the service
(``on_message``) and never block. Messages are acknowledged manually: the service sends the PUBACK
of a request only once the request is in the store, so the broker redelivers anything we had not
safely taken when we crashed. ``clean_start=False`` and a session expiry make the broker keep our
subscriptions and queue QoS 1 messages while we are down.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edgeward.daemon.settings import Settings

log = logging.getLogger(__name__)


class BusError(Exception):
    """The MQTT session cannot be set up (bad TLS files, for example)."""


@dataclass(frozen=True)
class Inbound:
    """One received message, with what is needed to acknowledge and answer it."""

    topic: str
    payload: bytes
    qos: int
    mid: int
    retain: bool
    response_topic: str | None = None
    correlation: bytes | None = None
    user: tuple[tuple[str, str], ...] = ()


def no_delay(client: mqtt.Client, userdata: Any, sock: Any) -> None:
    """Send small packets at once: paho leaves Nagle's algorithm on, which with the peer's
    delayed ACKs adds about 40 ms to every request/reply exchange."""
    if isinstance(sock, socket.socket) and sock.family in (socket.AF_INET, socket.AF_INET6):
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


def secure(client: mqtt.Client, settings: Settings) -> None:
    """The broker credentials and TLS of ``settings``, for every client we make (the daemon's,
    ``edgeward doctor``'s, the CLI's). Raises BusError naming a file that cannot be used."""
    cfg = settings.mqtt
    password = settings.mqtt_password()
    if cfg.username is not None or password is not None:
        client.username_pw_set(cfg.username, password)
    if cfg.tls_ca is None and cfg.tls_cert is None:
        return
    for key, path in (("tls_ca", cfg.tls_ca), ("tls_cert", cfg.tls_cert), ("tls_key", cfg.tls_key)):
        if path is not None and not path.is_file():
            raise BusError(f"mqtt.{key}: {path} does not exist or is not a file")
    if (cfg.tls_cert is None) != (cfg.tls_key is None):
        raise BusError("mqtt.tls_cert and mqtt.tls_key go together: set both or neither")
    try:
        client.tls_set(
            ca_certs=str(cfg.tls_ca) if cfg.tls_ca else None,
            certfile=str(cfg.tls_cert) if cfg.tls_cert else None,
            keyfile=str(cfg.tls_key) if cfg.tls_key else None,
            cert_reqs=ssl.CERT_REQUIRED,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    except (ssl.SSLError, OSError, ValueError) as exc:
        raise BusError(f"mqtt TLS files cannot be used: {exc}") from exc


class Bus:
    """One paho client with our session settings, last will, reconnect and subscriptions."""

    def __init__(
        self,
        settings: Settings,
        status_topic: str,
        on_message: Callable[[Inbound], None],
        on_connection: Callable[[bool], None] = lambda up: None,
    ) -> None:
        self.settings = settings
        self.status_topic = status_topic
        self._on_message = on_message
        self._on_connection = on_connection
        self._filters: set[str] = set()
        self._lock = threading.Lock()
        self._online_payload = b"{}"
        self.connected = threading.Event()
        self.ever_connected = threading.Event()
        self.last_refusal: str | None = None
        self._stopping = False
        cfg = settings.mqtt
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=settings.client_id,
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
            manual_ack=True,
        )
        client.max_inflight_messages_set(cfg.max_inflight)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)  # type: ignore[arg-type]
        secure(client, settings)
        client.will_set(status_topic, json.dumps({"state": "offline"}).encode(), qos=1, retain=True)
        client.on_connect = self._handle_connect
        client.on_disconnect = self._handle_disconnect
        client.on_message = self._handle_message
        client.on_connect_fail = self._handle_connect_fail
        client.on_socket_open = no_delay
        self.client = client

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self, online_payload: bytes) -> None:
        """Connect in the background; reconnects forever with capped exponential backoff."""
        self._online_payload = online_payload
        cfg = self.settings.mqtt
        props = Properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = cfg.session_expiry_s
        self.client.connect_async(
            cfg.host, cfg.port, keepalive=cfg.keepalive_s, clean_start=False, properties=props
        )
        self.client.loop_start()

    def stop(self, offline_payload: bytes, timeout: float = 5.0) -> None:
        """Publish the offline status, then disconnect cleanly (the will is not sent)."""
        if self.connected.is_set():
            info = self.client.publish(self.status_topic, offline_payload, qos=1, retain=True)
            try:
                info.wait_for_publish(timeout)
            except (RuntimeError, ValueError):
                log.warning("offline status not confirmed by the broker before stop")
        self._stopping = True
        self.client.disconnect()
        self.client.loop_stop()

    def loop_alive(self) -> bool:
        thread = getattr(self.client, "_thread", None)
        return thread is not None and thread.is_alive()

    # -- subscriptions and messages ----------------------------------------------------------

    def subscribe(self, filters: Iterable[str]) -> None:
        """Subscribe now (if connected) and again at every connect."""
        with self._lock:
            new = [f for f in filters if f not in self._filters]
            self._filters.update(new)
        if new and self.connected.is_set():
            self.client.subscribe([(f, 1) for f in new])

    def unsubscribe(self, filters: Iterable[str]) -> None:
        with self._lock:
            gone = [f for f in filters if f in self._filters]
            self._filters.difference_update(gone)
        if gone and self.connected.is_set():
            self.client.unsubscribe(gone)

    def publish(
        self,
        topic: str,
        payload: bytes,
        *,
        qos: int = 1,
        retain: bool = False,
        correlation: bytes | None = None,
    ) -> mqtt.MQTTMessageInfo:
        props = None
        if correlation is not None:
            props = Properties(PacketTypes.PUBLISH)
            props.CorrelationData = correlation
        return self.client.publish(topic, payload, qos=qos, retain=retain, properties=props)

    def ack(self, message: Inbound) -> None:
        if message.qos:
            self.client.ack(message.mid, message.qos)

    # -- paho callbacks (network thread: no blocking work) ----------------------------------

    def _handle_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self.last_refusal = str(reason)
            log.error(
                "broker %s:%s refused the connection: %s",
                self.settings.mqtt.host,
                self.settings.mqtt.port,
                reason,
                extra={"event": "mqtt_refused", "reason": str(reason)},
            )
            return
        self.last_refusal = None
        with self._lock:
            filters = sorted(self._filters)
        if filters:
            client.subscribe([(f, 1) for f in filters])
        client.publish(self.status_topic, self._online_payload, qos=1, retain=True)
        self.connected.set()
        self.ever_connected.set()
        log.info(
            "connected to %s:%s (session %s)",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            "resumed" if flags.session_present else "new",
            extra={"event": "mqtt_connected", "session_present": flags.session_present},
        )
        self._on_connection(True)

    def _handle_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        was_up = self.connected.is_set()
        self.connected.clear()
        if was_up and not self._stopping:
            log.warning(
                "disconnected from the broker (%s); reconnecting",
                reason,
                extra={"event": "mqtt_disconnected", "reason": str(reason)},
            )
            self._on_connection(False)

    def _handle_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        log.warning(
            "cannot reach the broker at %s:%s; retrying",
            self.settings.mqtt.host,
            self.settings.mqtt.port,
            extra={"event": "mqtt_unreachable"},
        )

    def _handle_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        props = msg.properties
        response_topic = getattr(props, "ResponseTopic", None) if props else None
        correlation = getattr(props, "CorrelationData", None) if props else None
        user = tuple(getattr(props, "UserProperty", ()) or ()) if props else ()
        self._on_message(
            Inbound(
                topic=msg.topic,
                payload=bytes(msg.payload),
                qos=msg.qos,
                mid=msg.mid,
                retain=bool(msg.retain),
                response_topic=response_topic,
                correlation=correlation,
                user=user,
            )
        )
