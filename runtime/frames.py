"""The plan language the embedded model writes: what the request says, resolved into a plan by code.

The model does the language (which words name a device, an area, an action, a value, a time); the
home's catalog does the lookup. A frame names its targets the way the request did::

    act name [ kitchen ceiling ] off
    act all light @ [ kitchen ] brightness 40 ; act name [ hall heater ] temperature 20 @in 10 min
    act all cover:garage open             (every garage door of the home)
    act all light here off                (the speaker's area)
    act one lock unlock                   (the only lock, else ask which)
    act name [ lamp ] on                  (the one device with "lamp" in its name, else ask which)
    act thermostat temperature up         (the speaker area's thermostat, else the only one)
    query name [ garage door ]
    query all sensor:temperature @ [ bedroom ]
    act all light ^ [ upstairs ] off      (a floor)
    no out_of_domain

:func:`resolve` turns a frame into a :class:`Plan` with the rules the training data was made by
(:mod:`edgeward.runtime.plan_rules`): a name two entities share is ``ambiguous``, a sweep that
would open the home is ``ambiguous``, a target the home lacks is ``unsupported``. So "which
entity" and "is it safe" are decided by code, exactly, and the model cannot name an entity that
does not exist: :func:`frame_grammar` allows only the home's names, areas, floors and kinds.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any, Literal

from edgeward.runtime import plan_rules as rules
from edgeward.runtime.bounded_cache import BoundedCache
from edgeward.runtime.catalog import Catalog, Entity
from edgeward.runtime.homes import device_words_in, fold
from edgeward.runtime.plan import Plan, PlannedCall, When

States = Mapping[str, Mapping[str, Any]]
"""Current values by entity id and argument name, as relative requests need them."""

REASONS: tuple[str, ...] = ("no_such_device", "out_of_domain")
"""Why a frame refuses: the home lacks it, or it is not about the home."""

UNIT_SECONDS = (("h", 3600), ("min", 60), ("s", 1))
"""The units a delay is written in, largest first."""
_PERCENT_ACTIONS = ("brightness", "position", "tilt", "fan_speed")


class FrameError(ValueError):
    """Text that is not a frame, or a frame that cannot become a plan for this home."""


@dataclass(frozen=True)
class Target:
    """What a clause is about, as the request put it.

    - ``name``: entities called ``name`` (or with it as an alias), else, when ``name`` is a
      device word, every entity with it in its name ("lamp": "Desk lamp" and "Floor lamp");
      optionally in ``area`` / on ``floor``;
    - ``all``: every entity of ``domain`` (and ``device_class``) in ``area``, on ``floor``, in the
      speaker's area (``here``) or, with none of those, in the whole home;
    - ``one``: the home's only entity of ``domain`` (else ambiguous);
    - ``thermostat``: the thermostat of ``area`` (or of the speaker's area), else the only one.
    """

    how: Literal["name", "all", "one", "thermostat"]
    name: str | None = None
    domain: str | None = None
    device_class: str | None = None
    area: str | None = None
    floor: str | None = None
    here: bool = False


@dataclass(frozen=True)
class Clause:
    """One thing the request asks: an action (``act``) or a state question (``query``).

    ``action`` is a key of :data:`plan_rules.ACTIONS`; ``value`` its argument, or ``"up"`` /
    ``"down"`` for a relative change."""

    verb: Literal["act", "query"]
    target: Target
    action: str | None = None
    value: Any = None
    when: When | None = None


@dataclass(frozen=True)
class Frame:
    """A request's clauses, or the reason it is refused."""

    clauses: tuple[Clause, ...] = ()
    reason: str | None = None


def named(name: str, area: str | None = None, floor: str | None = None) -> Target:
    return Target("name", name=name, area=area, floor=floor)


def every(
    domain: str,
    device_class: str | None = None,
    *,
    area: str | None = None,
    floor: str | None = None,
    here: bool = False,
) -> Target:
    return Target(
        "all", domain=domain, device_class=device_class, area=area, floor=floor, here=here
    )


def act(target: Target, action: str, value: Any = None, when: When | None = None) -> Frame:
    return Frame((Clause("act", target, action, value, when),))


def query(target: Target) -> Frame:
    return Frame((Clause("query", target),))


def refuse(reason: str) -> Frame:
    return Frame(reason=reason)


def joined(frames: Iterable[Frame]) -> Frame:
    """Several clauses said in one breath."""
    return Frame(tuple(c for f in frames for c in f.clauses))


def timed(frame: Frame, when: When) -> Frame:
    return Frame(tuple(replace(c, when=when) for c in frame.clauses), frame.reason)


# ---------------------------------------------------------------- text


@lru_cache(maxsize=1 << 16)
def clean(text: str) -> str:
    """How names, areas and floors are written in prompts and frames: lower case, single spaces,
    no brackets. Cached: a plan cleans the home's names many times over."""
    return " ".join(text.lower().replace("_", " ").replace("[", " ").replace("]", " ").split())


def _quoted(text: str) -> str:
    """A name in a frame: ``[ kitchen ceiling ]``. The spaces inside the brackets make its
    words the same tokens as in the request, where a space precedes each word, so the model
    copies tokens instead of re-spelling them."""
    return f"[ {clean(text)} ]"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:g}"
    return str(value)


def in_units(delay_s: int) -> tuple[int, str]:
    """A delay in its largest whole unit: 600 -> (10, "min")."""
    unit, seconds = next((u, s) for u, s in UNIT_SECONDS if delay_s % s == 0)
    return delay_s // seconds, unit


def when_text(when: When) -> str:
    if when.delay_s:
        n, unit = in_units(when.delay_s)
        return f"@in {n} {unit}"
    if when.at:
        return f"@at {when.at}"
    if when.cron:
        return f"@cron {when.cron}"
    raise FrameError("a timing needs a delay, a time or a schedule")


def _kind(target: Target) -> str:
    assert target.domain is not None
    return f"{target.domain}:{target.device_class}" if target.device_class else target.domain


def target_text(target: Target) -> str:
    if target.how == "name":
        assert target.name is not None
        words = ["name", _quoted(target.name)]
    elif target.how == "all":
        words = ["all", _kind(target)]
        if target.here:
            words.append("here")
    elif target.how == "one":
        words = ["one", _kind(target)]
    else:
        words = ["thermostat"]
    if target.area is not None:
        words += ["@", _quoted(target.area)]
    if target.floor is not None:
        words += ["^", _quoted(target.floor)]
    return " ".join(words)


def frame_text(frame: Frame) -> str:
    """The text the model writes for ``frame``."""
    if frame.reason is not None:
        return f"no {frame.reason}"
    clauses = []
    for clause in frame.clauses:
        words = [clause.verb, target_text(clause.target)]
        if clause.verb == "act":
            assert clause.action is not None
            words.append(clause.action)
            if clause.value is not None:
                words.append(_value_text(clause.value))
        if clause.when is not None:
            words.append(when_text(clause.when))
        clauses.append(" ".join(words))
    return " ; ".join(clauses)


_TARGET = re.compile(
    r"(?:name \[ (?P<name>[^\]]+) \]|all (?P<all>[a-z_]+(?::[a-z_]+)?)(?P<here> here)?"
    r"|one (?P<one>[a-z_]+(?::[a-z_]+)?)|(?P<thermostat>thermostat))"
    r"(?: @ \[ (?P<area>[^\]]+) \])?(?: \^ \[ (?P<floor>[^\]]+) \])?"
)
_WHEN = re.compile(
    r" @(?:in (?P<n>[1-9][0-9]*) (?P<unit>s|min|h)|at (?P<at>[0-2][0-9]:[0-5][0-9])"
    r"|cron (?P<cron>(?:[0-9*,/-]+ ){4}[0-9*,/-]+))$"
)


def _parse_target(match: re.Match[str]) -> Target:
    area, floor = match["area"], match["floor"]
    if match["name"]:
        return named(match["name"], area, floor)
    if match["thermostat"]:
        return Target("thermostat", area=area, floor=floor)
    kind = match["all"] or match["one"]
    domain, _, device_class = kind.partition(":")
    how: Literal["all", "one"] = "all" if match["all"] else "one"
    return Target(how, domain=domain, device_class=device_class or None, area=area, floor=floor,
                  here=bool(match["here"]))  # fmt: skip


def _parse_value(raw: str) -> Any:
    if raw in ("true", "false"):
        return raw == "true"
    if re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    if re.fullmatch(r"-?[0-9]+\.[0-9]+", raw):
        return float(raw)
    return raw


def parse_frame(text: str) -> Frame:
    """Read model output; raises :class:`FrameError` naming what is wrong."""
    text = text.strip()
    if text.startswith("no "):
        reason = text[3:]
        if reason not in REASONS:
            raise FrameError(f"unknown refusal reason {reason!r}")
        return refuse(reason)
    clauses = []
    for part in text.split(" ; "):
        when = None
        found = _WHEN.search(part)
        if found is not None:
            if found["n"]:
                seconds = dict(UNIT_SECONDS)[found["unit"]]
                when = When(delay_s=int(found["n"]) * seconds)
            else:
                when = When(at=found["at"]) if found["at"] else When(cron=found["cron"])
            part = part[: found.start()]
        verb, _, rest = part.partition(" ")
        if verb not in ("act", "query"):
            raise FrameError(f"a clause starts with act or query, not {verb!r}")
        match = _TARGET.match(rest)
        if match is None:
            raise FrameError(f"no target in {part!r}")
        target = _parse_target(match)
        tail = rest[match.end() :].split()
        if verb == "query":
            if tail or when is not None:
                raise FrameError(f"a query takes no action: {part!r}")
            clauses.append(Clause("query", target))
            continue
        if not tail or tail[0] not in rules.ACTIONS or len(tail) > 2:
            raise FrameError(f"no action in {part!r}")
        value = _parse_value(tail[1]) if len(tail) == 2 else None
        clauses.append(Clause("act", target, tail[0], value, when))
    return Frame(tuple(clauses))


# ---------------------------------------------------------------- resolution


def _area_of(home: Catalog, said: str) -> str:
    key = fold(said)
    for area in home.areas.values():
        if key == fold(area.name) or key in {fold(a) for a in area.aliases}:
            return area.name
    raise LookupError(said)


def _floor_of(home: Catalog, said: str) -> str:
    key = fold(said)
    for area in home.areas.values():
        if area.floor and fold(area.floor) == key:
            return area.floor
    raise LookupError(said)


def _located(home: Catalog, target: Target, speaker: str | None) -> dict[str, str]:
    """``select`` filters for the target's area or floor; LookupError if the home lacks it."""
    where: dict[str, str] = {}
    if target.area is not None:
        where["area"] = _area_of(home, target.area)
    elif target.here and speaker is not None:
        where["area"] = speaker
    if target.floor is not None:
        where["floor"] = _floor_of(home, target.floor)
    return where


def _relative(value: Any, targets: Sequence[Entity], action: str, state: States) -> Any:
    """A relative value ("up") made absolute from the one target's tracked value."""
    if value not in ("up", "down"):
        return value
    arg = rules.ACTION_ARG.get(action)
    if arg is None or len(targets) != 1:
        raise FrameError(f"{value!r} needs exactly one target with a value to change")
    entity = targets[0]
    current = state.get(entity.entity_id, {}).get(arg)
    if isinstance(current, bool) or not isinstance(current, int | float):
        raise FrameError(f"a relative change of {arg} needs its current value")
    step = rules.RELATIVE_STEPS.get(arg, 1)
    service = rules.service_of(entity, action)
    assert service is not None
    moved = rules.clamp(current + (step if value == "up" else -step), entity, service, arg)
    return int(moved) if entity.services[service][arg].type == "integer" else float(moved)


def _resolve_clause(
    home: Catalog, clause: Clause, speaker: str | None, state: States, language: str
) -> Plan | None:
    target, action = clause.target, clause.action
    try:
        where = _located(home, target, speaker)
    except LookupError:
        return rules.unsupported("no_such_device", language)
    if target.how == "name":
        assert target.name is not None
        options = [
            e
            for e in rules.meant_by(home, target.name)
            if all(getattr(e, k) == v for k, v in where.items())
        ]
        if clause.verb == "query":
            return (
                rules.query(options, language)
                if len(options) < 2
                else rules.ambiguous(options, language)
            )
        assert action is not None
        options = [e for e in options if rules.service_of(e, action)]
    elif target.how == "thermostat":
        options = rules.climate_for(home, where.get("area", speaker))
    else:
        options = rules.select(
            home, domain=target.domain, device_class=target.device_class, action=action, **where
        )
    if target.how == "all" and target.here and speaker is None and target.area is None:
        if len(options) != 1:  # "the lights" said from nowhere: ask which
            return rules.ambiguous(options, language) or rules.unsupported(
                "no_such_device", language
            )
    if clause.verb == "query":
        if not options and (target.domain, target.device_class) == ("sensor", "temperature"):
            # a room with a thermostat and no thermometer: the thermostat reads its temperature
            options = rules.select(home, domain="climate", **where)
        return rules.query(options, language)
    assert action is not None
    if target.how == "all":
        value = _relative(clause.value, options, action, state) if options else clause.value
        return rules.act(
            options, action, value=value, when=clause.when, language=language, sweep=True
        )
    if len(options) != 1:
        return rules.one_or_ambiguous(options, action, language)
    value = _relative(clause.value, options, action, state)
    return rules.act(options, action, value=value, when=clause.when, language=language)


def resolve(
    frame: Frame,
    home: Catalog,
    speaker: str | None = None,
    state: States | None = None,
    language: str = "en",
) -> Plan:
    """The plan ``frame`` means in ``home`` said from area ``speaker`` (no ``say``, confidence 1).

    Every call is validated against the catalog; a frame this home cannot carry out raises
    :class:`FrameError` (too many targets, a value out of range, a relative change without the
    current value).
    """
    if frame.reason is not None:
        return rules.unsupported(frame.reason, language)
    if not frame.clauses:
        raise FrameError("a frame needs a clause or a reason")
    plans = []
    for clause in frame.clauses:
        plan = _resolve_clause(home, clause, speaker, state or {}, language)
        if plan is None:
            raise FrameError(f"more than {rules.MAX_CALLS} targets, or an action they lack")
        if plan.kind != "act":  # one clause asks back or is refused: nothing of the request moves
            return _checked(plan, home)
        plans.append(plan)
    merged = rules.merge(plans, language)
    if merged is None:
        raise FrameError(f"more than {rules.MAX_CALLS} calls")
    return _checked(merged, home)


def _checked(plan: Plan, home: Catalog) -> Plan:
    calls = []
    for call in plan.calls:
        try:
            valid = home.validate(call.tool, call.args)
        except ValueError as exc:
            raise FrameError(str(exc)) from exc
        calls.append(PlannedCall(call.tool, dict(valid.args), call.when))
    return replace(plan, calls=tuple(calls))


# ---------------------------------------------------------------- the grammar over a home


def _lark_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _alternatives(items: Iterable[str]) -> str:
    return "(" + " | ".join(_lark_string(i) for i in sorted(set(items))) + ")"


def _same_length_range(a: str, b: str) -> str:
    """Regex for the integers from ``a`` to ``b``, two digit strings of one length, a <= b."""
    if a == b:
        return a
    if len(a) == 1:
        return f"[{a}-{b}]"
    if a[0] == b[0]:
        return f"{a[0]}({_same_length_range(a[1:], b[1:])})"
    rest = len(a) - 1
    parts = []
    start, end = int(a[0]), int(b[0])
    if a[1:] != "0" * rest:
        parts.append(f"{a[0]}({_same_length_range(a[1:], '9' * rest)})")
        start += 1
    top = end if b[1:] == "9" * rest else end - 1
    if start <= top:
        parts.append(f"[{start}-{top}][0-9]{{{rest}}}")
    if b[1:] != "9" * rest:
        parts.append(f"{b[0]}({_same_length_range('0' * rest, b[1:])})")
    return "|".join(parts)


def int_range_regex(lo: int, hi: int) -> str:
    """A regex matching exactly the decimal integers in [lo, hi] (lo >= 0), no leading zeros."""
    if lo < 0 or hi < lo:
        raise ValueError(f"unsupported integer range {lo}..{hi}")
    parts = []
    while lo <= hi:
        top = min(hi, 10 ** len(str(lo)) - 1)
        parts.append(f"({_same_length_range(str(lo), str(top))})")
        lo = top + 1
    return "|".join(parts)


def _action_rules(home: Catalog) -> list[str]:
    """One alternative per action some entity of the home offers, with its value's syntax."""
    out = []
    for action in rules.ACTIONS:
        entities = [e for e in home.entities.values() if rules.service_of(e, action)]
        if not entities:
            continue
        arg = rules.ACTION_ARG.get(action)
        if arg is None:
            out.append(_lark_string(" " + action))
            continue
        specs = [e.services[rules.service_of(e, action) or ""][arg] for e in entities]
        if specs[0].type == "boolean":
            values = '("true" | "false")'
        elif specs[0].type == "string":
            values = _alternatives(v for s in specs for v in (s.enum or ()))
            if values == "()":
                continue
        else:
            lo = min(s.minimum if s.minimum is not None else 0 for s in specs)
            hi = max(s.maximum if s.maximum is not None else 10_000 for s in specs)
            whole = int_range_regex(max(0, math.floor(lo)), max(0, math.ceil(hi)))
            number = f"/{whole}/" if specs[0].type == "integer" else rf"/({whole})(\.[0-9])?/"
            values = f'({number} | "up" | "down")'
        out.append(f"{_lark_string(' ' + action + ' ')} {values}")
    return out


_WHEN_RULE = (
    'when: " @in " /[1-9][0-9]{0,3}/ " " ("s" | "min" | "h")\n'
    '    | " @at " /([01][0-9]|2[0-3]):[0-5][0-9]/\n'
    '    | " @cron " CRON\n'
    r"CRON: /[0-5]?[0-9] ([01]?[0-9]|2[0-3]) [0-9*,\/-]+ [0-9*,\/-]+ [0-9*,\/-]+/"
)


def partial_names(home: Catalog) -> set[str]:
    """The device words in the names and aliases of ``home``'s entities ("lamp" in "Desk
    lamp"): a frame may name devices by them (see :class:`Target`)."""
    return {
        clean(w) for e in home.entities.values() for n in (e.name, *e.aliases)
        for w in device_words_in(n)
    }  # fmt: skip


def frame_names(home: Catalog) -> frozenset[str]:
    """The names a frame may give a device of ``home``: its names and aliases, and the device
    words in them (kept per catalog version)."""

    def make() -> frozenset[str]:
        names = {clean(n) for e in home.entities.values() for n in (e.name, *e.aliases)}
        return frozenset(names - {""}) | partial_names(home)

    return _FRAME_NAMES.get(home.version, make)


_FRAME_NAMES: BoundedCache[str, frozenset[str]] = BoundedCache(8)


def frame_grammar(home: Catalog) -> str:
    """The Lark grammar (llguidance dialect) of every frame over ``home``'s names and kinds."""
    entities = list(home.entities.values())
    names = frame_names(home)
    areas = {clean(a.name) for a in home.areas.values() if clean(a.name)}
    floors = {clean(a.floor) for a in home.areas.values() if a.floor and clean(a.floor)}
    kinds = {e.domain for e in entities} | {
        f"{e.domain}:{e.device_class}" for e in entities if e.device_class
    }
    place = ""
    if areas:
        place += ' (" @ " area)?'
    if floors:
        place += ' (" ^ " floor)?'
    target = [f'"name " name{place}', f'"all " kind (" here")?{place}', '"one " kind']
    if any(e.domain == "climate" for e in entities):
        target.append(f'"thermostat"{place}')
    lines = [
        'start: clause (" ; " clause)* | "no " ' + _alternatives(REASONS),
        "target: " + " | ".join(f"({t})" for t in target),
        "name: " + _alternatives(_quoted(n) for n in names),
        "kind: " + _alternatives(kinds),
    ]
    if areas:
        lines.append("area: " + _alternatives(_quoted(a) for a in areas))
    if floors:
        lines.append("floor: " + _alternatives(_quoted(f) for f in floors))
    actions = _action_rules(home)
    if actions:
        # Every lexeme after a target starts with a space and none is a prefix of another
        # allowed there, so the lexer never has to guess where one ends.
        lines.append('clause: "act " target action when? | "query " target')
        lines.append("action: " + " | ".join(f"({a})" for a in actions))
    else:  # only sensors: nothing to act on
        lines.append('clause: "query " target')
    lines.append(_WHEN_RULE)
    return "\n".join(lines) + "\n"
