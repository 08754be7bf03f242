"""Showing replies and device changes to a person, with rich."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.table import Table

console = Console(highlight=False)

_STYLE = {
    "done": "green",
    "needs_confirmation": "yellow",
    "ambiguous": "yellow",
    "denied": "red",
    "rejected": "red",
    "failed": "red",
    "unsupported": "magenta",
}


def print_reply(reply: dict[str, Any]) -> None:
    status = str(reply.get("status"))
    style = _STYLE.get(status, "white")
    head = f"[{style}]{status}[/{style}] route={reply.get('route')} {reply.get('latency_ms')} ms"
    console.print(head)
    if reply.get("say"):
        console.print(f"  [bold]{reply['say']}[/bold]")
    if reply.get("reason"):
        console.print(f"  reason: {reply['reason']}")
    if reply.get("confirmation"):
        conf = reply["confirmation"]
        console.print(f"  confirm with: edgeward confirm {conf['id']} (until {conf['expires_at']})")
    if reply.get("plan"):
        table = Table(show_header=True, header_style="bold", box=None, padding=(0, 2))
        table.add_column("tool")
        table.add_column("args")
        table.add_column("result")
        results = reply.get("results") or []
        for index, step in enumerate(reply["plan"]):
            result = results[index] if index < len(results) else {}
            outcome = result.get("status", "") if isinstance(result, dict) else str(result)
            table.add_row(
                str(step.get("tool")), json.dumps(step.get("args"), ensure_ascii=False), outcome
            )
        console.print(table)
