"""Upstream LLM client and durable outbox tests, against a real loopback HTTP server."""
