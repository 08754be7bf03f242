"""The outside world: the devices a gateway drives, and the upstream LLMs it may ask.

- ``ha_discovery``: Home Assistant MQTT discovery (per entity and per device, abbreviations, ``~``).
- ``zigbee2mqtt``: Zigbee2MQTT's ``bridge/devices`` exposes, state, ``/set`` and ``/get``.
- ``devices``: the ``DeviceRegistry`` that turns both into the tool catalog, tracks state and
  builds the exact command payloads each device expects. Pure: the daemon owns the MQTT session.
- ``simulator``: a simulated home on a real broker, for the demo and the integration tests.
- ``upstream``: the OpenAI-compatible upstream LLM client: only destinations the policy names,
  TLS always verified, bounded retries, a circuit breaker, an API key that is never logged.

May import runtime types (the catalog, plans); nothing of daemon/ or policies/.
"""
