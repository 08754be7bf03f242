"""What may happen and what may leave the box. Imports nothing from daemon/, runtime/ or adapters/.

- ``document``: the policy format (TOML for people, canonical JSON on the wire), validated with
  errors that name the field.
- ``signing``: Ed25519 envelopes verified against a trust root (threshold, rotation, keygen).
- ``trust``: ``PolicyStore``, the policy in force: rollback- and replay-proof across restarts;
  expired means the built-in default.
- ``gate``: the one deterministic decision every tool call and every egress passes.
- ``audit``: the tamper-evident (hash-chained) decision log.
- ``detectors`` and ``vault``: finding personal data, replacing it with placeholders, and putting
  it back in answers (redaction and re-identification).
- ``cli_policy``: what ``edgeward policy`` and ``edgeward audit`` do.
- ``state_files``: atomic writes and setting corrupt files aside (also used by daemon/).
"""
