"""A real HTTP server on loopback playing an OpenAI-compatible LLM, for upstream tests.

It listens on 127.0.0.1 on a free port (plain HTTP, or TLS with a given certificate), records every
byte each connection sent (and, per request, the method, path, headers and body), and answers from a
script: tool calls, text, injected instructions, placeholders it was never given, slow answers,
5xx, 429 with ``Retry-After``, malformed JSON, unknown tool names. When the script runs out it
answers 500 ``no scripted reply`` and counts it in ``unscripted``, so a test that sends more than
it planned sees it.
"""

from __future__ import annotations

import json
import ssl
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Reply:
    """One scripted answer: ``delay_s`` is waited before anything is written; with ``trickle_s``
    the body goes out in ten pieces, ``trickle_s`` apart."""

    status: int = 200
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    delay_s: float = 0.0
    trickle_s: float = 0.0


@dataclass(frozen=True)
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return {k.lower(): v for k, v in self.headers.items()}.get(name.lower())


# --------------------------------------------------------------------------- reply builders


def completion(message: dict[str, Any], completion_id: str = "chatcmpl-fake") -> Reply:
    doc = {
        "id": completion_id,
        "object": "chat.completion",
        "model": "fake-llm",
        "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
    }
    return Reply(body=json.dumps(doc).encode())


def text_reply(text: str, completion_id: str = "chatcmpl-fake") -> Reply:
    return completion({"role": "assistant", "content": text}, completion_id)


def tool_calls_reply(
    calls: Iterable[tuple[str, dict[str, Any] | str]],
    text: str | None = None,
    completion_id: str = "chatcmpl-fake",
) -> Reply:
    """Tool calls by wire name; a ``str`` argument is sent verbatim (to send invalid JSON)."""
    tool_calls = [
        {
            "id": f"call_{i}",
            "type": "function",
            "function": {
                "name": name,
                "arguments": args if isinstance(args, str) else json.dumps(args),
            },
        }
        for i, (name, args) in enumerate(calls)
    ]
    return completion(
        {"role": "assistant", "content": text, "tool_calls": tool_calls}, completion_id
    )


def error_reply(status: int, message: str = "upstream failure") -> Reply:
    return Reply(status=status, body=json.dumps({"error": {"message": message}}).encode())


def rate_limited(retry_after: str | None) -> Reply:
    headers: tuple[tuple[str, str], ...] = (("Content-Type", "application/json"),)
    if retry_after is not None:
        headers += (("Retry-After", retry_after),)
    return Reply(status=429, body=b'{"error":{"message":"slow down"}}', headers=headers)


def raw_reply(body: bytes, status: int = 200) -> Reply:
    return Reply(status=status, body=body)


def slow(reply: Reply, delay_s: float = 0.0, trickle_s: float = 0.0) -> Reply:
    return Reply(reply.status, reply.body, reply.headers, delay_s, trickle_s)


# --------------------------------------------------------------------------- server


class _Tee:
    """Wraps a connection's read side and copies every byte read into ``sink``."""

    def __init__(self, raw: Any, sink: bytearray) -> None:
        self._raw = raw
        self._sink = sink

    def read(self, size: int = -1) -> bytes:
        data = self._raw.read(size)
        self._sink += data
        return data

    def readline(self, size: int = -1) -> bytes:
        data = self._raw.readline(size)
        self._sink += data
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._raw, name)


@dataclass
class _State:
    replies: deque[Reply] = field(default_factory=deque)
    received: list[Received] = field(default_factory=list)
    raw: list[bytearray] = field(default_factory=list)
    connections: int = 0
    unscripted: int = 0
    handshake_failures: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def setup(self) -> None:
        super().setup()
        sink = bytearray()
        with self.server.state.lock:
            self.server.state.raw.append(sink)
        self.rfile = _Tee(self.rfile, sink)  # type: ignore[assignment]

    def log_message(self, format: str, *args: Any) -> None:  # silence stderr
        return

    def do_POST(self) -> None:
        self._serve()

    def do_GET(self) -> None:
        self._serve()

    def _serve(self) -> None:
        state = self.server.state
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        record = Received(self.command, self.path, dict(self.headers.items()), body)
        with state.lock:
            state.received.append(record)
            reply = state.replies.popleft() if state.replies else None
            if reply is None:
                state.unscripted += 1
        if reply is None:
            reply = error_reply(500, "no scripted reply")
        if reply.delay_s and state.stopping.wait(reply.delay_s):
            return
        try:
            self.send_response(reply.status)
            for name, value in reply.headers:
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(reply.body)))
            self.end_headers()
            self.wfile.flush()
            step = max(1, len(reply.body) // 10) if reply.trickle_s else len(reply.body) or 1
            for start in range(0, len(reply.body), step):
                if start and reply.trickle_s and state.stopping.wait(reply.trickle_s):
                    return
                self.wfile.write(reply.body[start : start + step])
                self.wfile.flush()
        except OSError:
            return  # the client gave up (timeout): nothing to answer


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, state: _State, tls: ssl.SSLContext | None) -> None:
        self.state = state
        self.tls = tls
        super().__init__(("127.0.0.1", 0), _Handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        with self.state.lock:
            self.state.connections += 1
        if self.tls is not None:
            try:
                request = self.tls.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                with self.state.lock:
                    self.state.handshake_failures += 1
                return
        super().finish_request(request, client_address)

    def handle_error(self, request: Any, client_address: Any) -> None:
        return  # a client that hung up mid-request is part of the tests


class FakeLLM:
    """Start with ``with FakeLLM() as llm:``; ``llm.base_url`` is the API root to configure."""

    def __init__(self, certfile: Path | None = None, keyfile: Path | None = None) -> None:
        tls = None
        if certfile is not None:
            tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            tls.load_cert_chain(certfile, keyfile)
        self._state = _State()
        self._server = _Server(self._state, tls)
        self.port = int(self._server.server_address[1])
        scheme = "https" if tls else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}/v1"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def __enter__(self) -> FakeLLM:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._state.stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def script(self, *replies: Reply) -> None:
        with self._state.lock:
            self._state.replies.extend(replies)

    @property
    def received(self) -> list[Received]:
        with self._state.lock:
            return list(self._state.received)

    @property
    def raw_bytes(self) -> bytes:
        """Every byte every connection sent, in connection order (decrypted when TLS)."""
        with self._state.lock:
            return b"".join(bytes(chunk) for chunk in self._state.raw)

    @property
    def connections(self) -> int:
        with self._state.lock:
            return self._state.connections

    @property
    def unscripted(self) -> int:
        with self._state.lock:
            return self._state.unscripted

    @property
    def handshake_failures(self) -> int:
        with self._state.lock:
            return self._state.handshake_failures

    @property
    def pending(self) -> int:
        with self._state.lock:
            return len(self._state.replies)
