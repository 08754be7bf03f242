"""Prometheus metrics: request counts by status, latency, broker connection, catalog size.

Each service has its own registry (several can run in one test process); the endpoint is served
only when ``[metrics] enabled = true``.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, start_http_server

LATENCY_BUCKETS = (0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "edgeward_requests",
            "Requests answered, by kind (call, ask, confirm) and reply status",
            ["kind", "status"],
            registry=self.registry,
        )
        self.repeats = Counter(
            "edgeward_repeated_requests",
            "Requests whose id was already handled: answered again, not executed",
            registry=self.registry,
        )
        self.latency = Histogram(
            "edgeward_request_latency_seconds",
            "Time from receiving a request to publishing its reply",
            ["kind"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.connected = Gauge(
            "edgeward_broker_connected",
            "1 while connected to the MQTT broker",
            registry=self.registry,
        )
        self.catalog_entities = Gauge(
            "edgeward_catalog_entities", "Entities in the tool catalog", registry=self.registry
        )

    def serve(self, host: str, port: int) -> None:
        """Serve ``/metrics`` on host:port from a daemon thread."""
        start_http_server(port, addr=host, registry=self.registry)
