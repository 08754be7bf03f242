"""A small MQTT 5 client for sending requests to a gateway and waiting for the replies.

Used by ``edgeward call`` / ``ask`` / ``confirm``, the demo prompt, the tests and the benchmarks.
Each client has its own response topic; replies are matched by correlation data.
"""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edgeward.daemon.bus import BusError, no_delay, secure
from edgeward.daemon.settings import Settings


class ClientError(Exception):
    """The broker cannot be reached, or no reply came in time."""


class GatewayClient:
    def __init__(
        self,
        host: str,
        port: int,
        gateway_id: str,
        *,
        settings: Settings | None = None,
        client_name: str | None = None,
        timeout: float = 10.0,
    ) -> None:
        self.gateway_id = gateway_id
        self.timeout = timeout
        self.client_name = client_name
        self.response_topic = f"edgeward/{gateway_id}/client/{uuid.uuid4().hex}"
        self._pending: dict[bytes, threading.Event] = {}
        self._replies: dict[bytes, dict[str, Any]] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._refused: str | None = None
        client = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"edgeward-cli-{uuid.uuid4().hex[:12]}",
            protocol=mqtt.MQTTProtocolVersion.MQTTv5,
        )
        client.max_inflight_messages_set(1000)
        if settings is not None:  # the broker's credentials and TLS, as the daemon uses them
            try:
                secure(client, settings)
            except BusError as exc:
                raise ClientError(str(exc)) from None
        client.on_socket_open = no_delay
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        self.client = client
        try:
            client.connect(host, port, keepalive=30)
        except OSError as exc:
            raise ClientError(f"cannot reach the broker at {host}:{port}: {exc}") from None
        client.loop_start()
        if not self._ready.wait(timeout):
            self.close()
            raise ClientError(f"the broker at {host}:{port} did not accept us within {timeout}s")
        if self._refused:
            self.close()
            raise ClientError(f"the broker at {host}:{port} refused us: {self._refused}")

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            self._refused = str(reason)
            self._ready.set()
            return
        client.subscribe(self.response_topic, qos=1)

    def _on_subscribe(self, *args: Any) -> None:
        self._ready.set()  # our response topic is in place: requests can go

    def _on_message(self, client: mqtt.Client, userdata: Any, msg: mqtt.MQTTMessage) -> None:
        correlation = getattr(msg.properties, "CorrelationData", None)
        if correlation is None:
            return
        try:
            reply = json.loads(msg.payload)
        except ValueError:
            reply = {"status": "unreadable", "raw": msg.payload.decode("utf-8", "replace")}
        with self._lock:
            event = self._pending.get(correlation)
            self._replies[correlation] = reply
        if event is not None:
            event.set()

    def send(self, kind: str, body: dict[str, Any] | bytes, wait: bool = True) -> dict[str, Any]:
        """Publish one request on ``edgeward/<gw>/<kind>`` and return its reply."""
        correlation = uuid.uuid4().bytes
        event = threading.Event()
        with self._lock:
            self._pending[correlation] = event
        props = Properties(PacketTypes.PUBLISH)
        props.ResponseTopic = self.response_topic
        props.CorrelationData = correlation
        if self.client_name:
            props.UserProperty = ("client", self.client_name)
        payload = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.client.publish(f"edgeward/{self.gateway_id}/{kind}", payload, qos=1, properties=props)
        if not wait:
            return {}
        if not event.wait(self.timeout):
            with self._lock:
                self._pending.pop(correlation, None)
            raise ClientError(
                f"no reply from gateway {self.gateway_id!r} within {self.timeout}s "
                "(is `edgeward run` connected to this broker?)"
            )
        with self._lock:
            self._pending.pop(correlation, None)
            return self._replies.pop(correlation)

    def call(self, request_id: str, calls: list[dict[str, Any]]) -> dict[str, Any]:
        return self.send("call", {"id": request_id, "calls": calls})

    def ask(self, request_id: str, text: str, **context: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {"id": request_id, "text": text}
        body.update({k: v for k, v in context.items() if v is not None})
        return self.send("ask", body)

    def confirm(self, confirmation_id: str, approve: bool) -> dict[str, Any]:
        return self.send("confirm", {"id": confirmation_id, "approve": approve})

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def __enter__(self) -> GatewayClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
