"""The process: everything that makes edgeward a running gateway.

- ``cli``: the ``edgeward`` command; ``runner``: signals, sd_notify, watchdog, metrics endpoint.
- ``settings``: TOML + ``EDGEWARD_*`` environment (pydantic-settings).
- ``bus``: the MQTT 5 session (persistent, manual acknowledgements, last will, reconnect).
- ``service``: the worker that accepts, stores, gates, actuates and answers requests.
- ``requests``: parsing the request topics and shaping replies.
- ``store``: requests and schedules, durable (TinyDB snapshot + fsynced journal).
- ``scheduler``: delayed, timed and recurring actions (apscheduler), persisted in the store.
- ``outbox``: the durable queue of redacted upstream requests that can wait.
- ``client``: a request/reply MQTT client for the CLI, the demo, tests and benchmarks.
- ``demo``, ``local_broker``, ``doctor``, ``console``, ``logs``, ``metrics``,
  ``systemd_notify``, ``version``: the rest of what a person runs and sees.
"""
