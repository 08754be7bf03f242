"""The tests' brokers are the same private Mosquitto the demo starts."""

from edgeward.daemon.local_broker import LocalBroker as Mosquitto
from edgeward.daemon.local_broker import free_port

__all__ = ["Mosquitto", "free_port"]
