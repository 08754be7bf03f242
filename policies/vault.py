"""Pseudonymization: replace detected personal data by placeholders, and put it back.

A :class:`Redactor` is configured once per policy with a :class:`~.detectors.Detector` and one
action per data class:

- ``redact``: the value is replaced by a placeholder of its class (``<PERSON_1>``), remembered in
  the request's :class:`Vault` and restored by :meth:`Vault.reidentify`;
- ``drop``: the value is removed outright and never remembered;
- ``allow``: the value stays in the text;
- ``local_only``: the request must not leave the box; the value is still replaced by a
  placeholder, and the class is reported in :attr:`Redaction.local_only` so the caller refuses
  egress.

A :class:`Vault` lives as long as one conversation: the same value of the same class always gets
the same placeholder in it. It holds values in memory only and :meth:`Vault.clear` forgets them.
Text in the input that already looks like a placeholder is itself pseudonymized (as
``<LITERAL_n>``), so an upstream cannot be fed a placeholder that pulls another value out, and
re-identification restores only placeholders this vault issued, tolerating case and spacing
changes (``< person_1 >``, ``<Person 1>``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .detectors import Detection, Detector, RedactionConfigError

ACTIONS: tuple[str, ...] = ("redact", "drop", "allow", "local_only")

PLACEHOLDER_LABELS: dict[str, str] = {
    "person_name": "PERSON",
    "email": "EMAIL",
    "phone": "PHONE",
    "street_address": "ADDRESS",
    "gps_location": "LOCATION",
    "ip_address": "IP",
    "mac_address": "MAC",
    "device_id": "DEVICE",
    "iban": "IBAN",
    "card_number": "CARD",
}
LITERAL_LABEL = "LITERAL"
"""Label of placeholders standing for input text that itself looked like a placeholder."""

# Every repetition is bounded, so hostile text cannot make matching slow.
_LABEL = r"[A-Za-z][A-Za-z _-]{0,40}?"
_GAP = r"[\s_-]{0,8}"
# What re-identification accepts: the issued form with any case and spacing.
_PLACEHOLDER = re.compile(rf"<\s{{0,8}}(?P<label>{_LABEL}){_GAP}(?P<number>\d{{1,9}})\s{{0,8}}>")
# What the input may not carry: also escaped and look-alike brackets an upstream could turn
# into the issued form.
_OPENING_BRACKETS = ("<", "&lt;", "\uff1c", "\u2039", "\u3008", "\u27e8")
_LOOKALIKE = re.compile(
    rf"(?:<|&lt;|\uff1c|\u2039|\u3008|\u27e8)\s{{0,8}}{_LABEL}{_GAP}\d{{1,9}}\s{{0,8}}"
    r"(?:>|&gt;|\uff1e|\u203a|\u3009|\u27e9)",
    re.IGNORECASE,
)


_NON_ASCII_BRACKETS = tuple(b for b in _OPENING_BRACKETS if not b.isascii())


def _may_hold_lookalike(text: str) -> bool:
    if "<" in text or "&lt;" in text:
        return True
    return not text.isascii() and any(bracket in text for bracket in _NON_ASCII_BRACKETS)


def placeholder_label(data_class: str) -> str:
    """The placeholder label of a class: fixed for built-ins, the upper-cased name for custom."""
    return PLACEHOLDER_LABELS.get(data_class) or data_class.upper()


def _normalise_label(label: str) -> str:
    return re.sub(r"[\s_-]+", "_", label.strip()).upper()


@dataclass(frozen=True, slots=True)
class Redaction:
    """The outcome of :meth:`Redactor.redact`.

    ``text`` is safe to send only when ``local_only`` is empty. ``detections`` are the spans found
    in the input (offsets into the input); their values must not be logged.
    """

    text: str
    detections: tuple[Detection, ...] = field(repr=False)
    local_only: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Reidentified:
    """The outcome of :meth:`Vault.reidentify`: ``unknown`` lists placeholder-shaped text that this
    vault never issued (left untouched in ``text``)."""

    text: str
    unknown: tuple[str, ...]


class Vault:
    """Per-conversation mapping between values and placeholders, in memory only."""

    def __init__(self) -> None:
        self._placeholder_of: dict[tuple[str, str], str] = {}
        self._value_of: dict[tuple[str, int], str] = {}
        self._counters: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._value_of)

    def __repr__(self) -> str:  # never show the values
        return f"<Vault with {len(self)} value(s)>"

    def placeholder(self, label: str, value: str) -> str:
        """The placeholder for ``value`` under ``label``, issuing a new one on first sight."""
        key = (label, value)
        issued = self._placeholder_of.get(key)
        if issued is None:
            number = self._counters.get(label, 0) + 1
            self._counters[label] = number
            issued = f"<{label}_{number}>"
            self._placeholder_of[key] = issued
            self._value_of[(label, number)] = value
        return issued

    def reidentify(self, text: str) -> Reidentified:
        """Restore the values of the placeholders this vault issued, in a single pass."""
        unknown: list[str] = []

        def restore(m: re.Match[str]) -> str:
            value = self._value_of.get((_normalise_label(m.group("label")), int(m.group("number"))))
            if value is None:
                unknown.append(m.group())
                return m.group()
            return value

        restored = _PLACEHOLDER.sub(restore, text)
        return Reidentified(restored, tuple(unknown))

    def reidentify_value(self, value: Any) -> Any:
        """Re-identify every string inside a JSON-like value (dicts, lists, strings)."""
        if isinstance(value, str):
            return self.reidentify(value).text
        if isinstance(value, list):
            return [self.reidentify_value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.reidentify_value(v) for k, v in value.items()}
        return value

    def clear(self) -> None:
        """Forget every value (end of the conversation)."""
        self._placeholder_of.clear()
        self._value_of.clear()
        self._counters.clear()


class Redactor:
    """Applies per-class actions to what a :class:`Detector` finds. Build once per policy.

    ``actions`` maps class names to one of :data:`ACTIONS`; classes it does not name get
    ``default_action`` (``redact`` unless told otherwise).
    """

    def __init__(
        self,
        detector: Detector,
        actions: Mapping[str, str] | None = None,
        *,
        default_action: str = "redact",
    ) -> None:
        if default_action not in ACTIONS:
            raise RedactionConfigError(
                f"default_action {default_action!r} is not one of {', '.join(ACTIONS)}"
            )
        known = set(detector.classes)
        self._actions = dict.fromkeys(detector.classes, default_action)
        for data_class, action in (actions or {}).items():
            if data_class not in known:
                raise RedactionConfigError(
                    f"actions: unknown data class {data_class!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
            if action not in ACTIONS:
                raise RedactionConfigError(
                    f"actions[{data_class!r}]: {action!r} is not one of {', '.join(ACTIONS)}"
                )
            self._actions[data_class] = action
        labels: dict[str, str] = {}
        for data_class in detector.classes:
            label = placeholder_label(data_class)
            if label in labels or label == LITERAL_LABEL:
                raise RedactionConfigError(
                    f"custom class {data_class!r} would use the placeholder label {label!r}, "
                    f"already used by {labels.get(label, 'placeholder look-alikes')!r}"
                )
            labels[label] = data_class
        self._labels = {c: placeholder_label(c) for c in detector.classes}
        self.detector = detector

    def action(self, data_class: str) -> str:
        """The action applied to ``data_class``."""
        return self._actions[data_class]

    def redact(self, text: str, vault: Vault) -> Redaction:
        """Redact ``text``, recording every placeholder issued in ``vault``."""
        detections = self.detector.detect(text)
        edits: list[tuple[int, int, str]] = []
        if _may_hold_lookalike(text):
            edits.extend(
                (m.start(), m.end(), vault.placeholder(LITERAL_LABEL, m.group()))
                for m in _LOOKALIKE.finditer(text)
                if all(m.end() <= d.start or d.end <= m.start() for d in detections)
            )
        has_lookalikes = bool(edits)
        local_only: set[str] = set()
        actions, labels = self._actions, self._labels
        for d in detections:
            action = actions[d.data_class]
            if action == "allow":
                continue
            if action == "drop":
                edits.append((d.start, d.end, ""))
                continue
            if action == "local_only":
                local_only.add(d.data_class)
            edits.append((d.start, d.end, vault.placeholder(labels[d.data_class], d.text)))
        if has_lookalikes:
            edits.sort()  # detections come sorted and disjoint; look-alikes go between them
        parts: list[str] = []
        position = 0
        for start, end, replacement in edits:
            parts.append(text[position:start])
            parts.append(replacement)
            position = end
        parts.append(text[position:])
        return Redaction("".join(parts), tuple(detections), frozenset(local_only))
