"""Requests phrased from the ``home-assistant-intents`` sentence templates, expanded with hassil.

The package (Apache-2.0) ships its templates, lists and expansion rules per language as JSON in
its wheel (``home_assistant_intents/data/<lang>.json``); hassil parses them offline. This module
walks a parsed template with random choices, fills ``{area}``, ``{name}``, ``{brightness}``, ...
from a home, and gives the plan :mod:`edgeward.runtime.plan_rules` says. One sentence template
of one intent is one template group (``ha:<lang>:<intent>:<slot combination>:<data>:<sentence>``).

Intents about timers, weather, time, dates, shopping lists and broadcasts are out of domain for a
home gateway; media players, vacuums and lawn mowers are devices the catalog has no domain for,
so requests to them are ``no_such_device``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from hassil import Intents
from hassil.expression import (
    Alternative,
    Expression,
    ListReference,
    Permutation,
    RuleReference,
    Sentence,
    Sequence,
    TextChunk,
)
from hassil.intents import RangeSlotList, TextSlotList
from home_assistant_intents import get_intents

from edgeward.runtime import frames as fr
from edgeward.runtime import phrasing as ph
from edgeward.runtime import plan_rules as rules
from edgeward.runtime.catalog import Entity
from edgeward.runtime.homes import LANGUAGES
from edgeward.runtime.plan import Plan
from edgeward.runtime.requests_data import (
    Context,
    Draft,
    area_phrase,
    floor_phrase,
    is_test_group,
    pick_name,
)

OUT_OF_DOMAIN_INTENTS = frozenset({
    "HassGetWeather", "HassGetCurrentTime", "HassGetCurrentDate", "HassStartTimer",
    "HassCancelTimer", "HassCancelAllTimers", "HassTimerStatus", "HassPauseTimer",
    "HassUnpauseTimer", "HassIncreaseTimer", "HassDecreaseTimer", "HassShoppingListAddItem",
    "HassListAddItem", "HassListCompleteItem", "HassBroadcast", "HassShoppingListCompleteItem",
})  # fmt: skip
NO_DEVICE_INTENTS = frozenset({
    "HassMediaPause", "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious",
    "HassSetVolume", "HassSetVolumeRelative", "HassMediaPlayerMute", "HassMediaPlayerUnmute",
    "HassVacuumStart", "HassVacuumReturnToBase", "HassVacuumCleanArea",
    "HassLawnMowerStartMowing", "HassLawnMowerDock",
})  # fmt: skip
DEVICE_INTENTS = frozenset({
    "HassTurnOn", "HassTurnOff", "HassLightSet", "HassClimateSetTemperature", "HassSetPosition",
    "HassFanSetSpeed", "HassGetState", "HassClimateGetTemperature",
})  # fmt: skip

CATEGORY_SHARES = (0.1, 0.1)
"""Shares of out-of-domain and no-such-device requests among these; the rest control devices."""

FREE_LISTS = frozenset({
    "on_off_states", "cover_states", "lock_states", "bs_open_states", "bs_occupancy_states",
    "timer_command", "timer_half", "volume_step", "volume_step_up",
    "volume_step_down", "media_class", "timer_seconds", "timer_minutes", "timer_hours", "volume",
})  # fmt: skip
"""Lists whose value does not change the plan: filled from the package's own values."""

_WILDCARDS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {"item": ("milk", "eggs", "batteries", "bread"), "message": ("dinner is ready", "time to go"),
           "name": ("the tv", "the speaker", "the vacuum", "the mower", "the radio"), "query": ("jazz", "the news")},  # noqa: E501
    "fr": {"item": ("lait", "œufs", "piles", "pain"), "message": ("à table", "on part"),
           "name": ("la télé", "l'enceinte", "l'aspirateur", "la tondeuse", "la radio"), "query": ("du jazz", "les infos")},  # noqa: E501
    "es": {"item": ("leche", "huevos", "pilas", "pan"), "message": ("la cena está lista", "nos vamos"),
           "name": ("la tele", "el altavoz", "la aspiradora", "el cortacésped", "la radio"), "query": ("jazz", "las noticias")},  # noqa: E501
    "de": {"item": ("Milch", "Eier", "Batterien", "Brot"), "message": ("Essen ist fertig", "wir gehen"),
           "name": ("den Fernseher", "den Lautsprecher", "den Staubsauger", "den Mäher", "das Radio"), "query": ("Jazz", "Nachrichten")},  # noqa: E501
}  # fmt: skip
_WILDCARD_LISTS = {"shopping_list_item": "item", "todo_list_item": "item", "message": "message",
                   "search_query": "query", "zone": "name", "timer_name": "item"}  # fmt: skip


_EVERYWHERE = ("<everywhere>", "<partout>", "<todas_partes>", "<alle_lichter_ueberall>")
"""Expansion rules that mean the whole home."""


@dataclass(frozen=True)
class Template:
    language: str
    intent: str
    combination: str
    domain: str | None  # from the template's fixed slots
    domains: tuple[str, ...]  # from requires_context
    sentence: Sentence
    rules: Mapping[str, Sentence]
    lists: frozenset[str]
    group: str


@lru_cache(maxsize=len(LANGUAGES))
def _parsed(language: str) -> Intents:
    data = get_intents(language)
    if data is None:
        raise LookupError(f"home-assistant-intents has no templates for {language!r}")
    return Intents.from_dict(data)


@lru_cache(maxsize=2 * len(LANGUAGES))
def templates(language: str, test: bool) -> tuple[Template, ...]:
    """The usable templates of ``language`` in the test (or train) split."""
    intents = _parsed(language)
    out = []
    wanted = OUT_OF_DOMAIN_INTENTS | NO_DEVICE_INTENTS | DEVICE_INTENTS
    for name, intent in sorted(intents.intents.items()):
        if name not in wanted:
            continue
        for d, data in enumerate(intent.data):
            combination = str((data.metadata or {}).get("slot_combination", "default"))
            domain = (data.slots or {}).get("domain")
            needed = (data.requires_context or {}).get("domain", [])
            domains = tuple([needed] if isinstance(needed, str) else needed)
            local = {**intents.expansion_rules, **(data.expansion_rules or {})}
            for s, sentence in enumerate(data.sentences):
                combo = combination
                if combo == "domain_only" and any(r in (sentence.text or "") for r in _EVERYWHERE):
                    combo = "domain_all"  # the package files some of these under "here"
                lists = frozenset(sentence.list_names(local))
                group = f"ha:{language}:{name}:{combination}:{d}:{s}"
                free = {n for n in lists if n in FREE_LISTS and _has_values(intents, n)}
                if is_test_group(group) != test or not _fillable(name, lists - free):
                    continue
                out.append(
                    Template(
                        language,
                        name,
                        combo,
                        domain if isinstance(domain, str) else None,
                        domains,
                        sentence,
                        local,
                        lists,
                        group,
                    )
                )
    return tuple(out)


def _has_values(intents: Intents, list_name: str) -> bool:
    slot_list = intents.slot_lists.get(list_name)
    if isinstance(slot_list, TextSlotList):
        return bool(slot_list.values)
    return isinstance(slot_list, RangeSlotList)


def _fillable(intent: str, lists: frozenset[str]) -> bool:
    """Whether every list a template uses (besides free ones) can be filled for ``intent``."""
    extra = lists - set(_WILDCARD_LISTS)
    if intent in OUT_OF_DOMAIN_INTENTS:
        return not extra
    if intent in NO_DEVICE_INTENTS:
        return extra <= {"name", "area", "floor"}
    return extra <= {"name", "area", "floor", "brightness", "color", "temperature", "position",
                     "fan_speed", "color_temperature", "cover_classes"}  # fmt: skip


def draft(ctx: Context) -> Draft | None:
    """One request from a home-assistant-intents template, or None if it does not fit the home."""
    roll = ctx.rng.random()
    family = (OUT_OF_DOMAIN_INTENTS if roll < CATEGORY_SHARES[0] else NO_DEVICE_INTENTS
              if roll < CATEGORY_SHARES[0] + CATEGORY_SHARES[1] else DEVICE_INTENTS)  # fmt: skip
    options = [t for t in templates(ctx.language, ctx.split == "test") if t.intent in family]
    if not options:
        return None
    template = ctx.rng.choice(options)
    if template.intent in OUT_OF_DOMAIN_INTENTS:
        made: Made | None = Made(
            rules.unsupported("out_of_domain", ctx.language), fr.refuse("out_of_domain"), {}, None
        )
        kind = "out_of_domain"
    elif template.intent in NO_DEVICE_INTENTS:
        made = _no_device(ctx, template)
        kind = "no_such_device"
    else:
        made = RESOLVERS.get(template.intent, _skip)(ctx, template)
        kind = ""
    if made is None or made.plan is None:
        return None
    if not kind:
        kind = made.kind or _kind_of(made.plan, template)
    text = _walk(template.sentence.expression, template, made.slots, ctx)
    text = " ".join(text.split())
    area = made.area if made.area is not None else _speaker(ctx, template)
    return Draft(text, made.plan, made.frame, kind, template.group, area)


@dataclass
class Made:
    plan: Plan | None
    frame: fr.Frame
    slots: dict[str, str]
    area: str | None
    kind: str = ""


def _kind_of(plan: Plan, template: Template) -> str:
    if plan.kind == "ambiguous":
        return "ambiguous"
    if plan.kind == "unsupported":
        return "no_such_device"
    if plan.kind == "query":
        return "query"
    combo = template.combination
    if template.intent in ("HassLightSet", "HassClimateSetTemperature", "HassSetPosition",
                           "HassFanSetSpeed"):  # fmt: skip
        return "set_value"
    if "floor" in combo or combo == "domain_all":
        return "floor"
    if combo.startswith("area"):
        return "area"
    return "single"


def _speaker(ctx: Context, template: Template) -> str | None:
    if ctx.rng.random() < 0.4 and ctx.home.areas:
        return ctx.rng.choice(sorted(ctx.home.areas))
    return None


def _skip(ctx: Context, template: Template) -> Made | None:
    return None


# --- template walking ---------------------------------------------------------------------------


def _walk(expr: Expression, template: Template, slots: Mapping[str, str], ctx: Context) -> str:
    rng = ctx.rng
    if isinstance(expr, TextChunk):
        return expr.original_text
    if isinstance(expr, Alternative):
        if expr.is_optional and rng.random() < 0.5:
            return ""
        items = [
            i for i in expr.items if not (isinstance(i, TextChunk) and not i.text)
        ] or expr.items
        return _walk(rng.choice(items), template, slots, ctx)
    if isinstance(expr, Permutation):
        items = list(expr.items)
        rng.shuffle(items)
        return " ".join(_walk(i, template, slots, ctx) for i in items)
    if isinstance(expr, Sequence):
        return "".join(_walk(i, template, slots, ctx) for i in expr.items)
    if isinstance(expr, RuleReference):
        return _walk(template.rules[expr.rule_name].expression, template, slots, ctx)
    if isinstance(expr, ListReference):
        if expr.list_name in slots:
            return slots[expr.list_name]
        return _free_value(expr.list_name, template, ctx)
    raise TypeError(f"unexpected hassil expression {type(expr).__name__}")


def _free_value(list_name: str, template: Template, ctx: Context) -> str:
    if list_name in _WILDCARD_LISTS:
        return ctx.rng.choice(_WILDCARDS[ctx.language][_WILDCARD_LISTS[list_name]])
    slot_list = _parsed(ctx.language).slot_lists.get(list_name)
    if isinstance(slot_list, TextSlotList) and slot_list.values:
        value = ctx.rng.choice(slot_list.values)
        return _walk(value.text_in, template, {}, ctx)
    if isinstance(slot_list, RangeSlotList):
        return str(ctx.rng.randrange(slot_list.start, slot_list.stop + 1, slot_list.step))
    raise KeyError(list_name)


def _list_value(
    list_name: str, wanted: Callable[[Any], bool], ctx: Context
) -> tuple[str, Any] | None:
    """A random value of the package's list ``list_name`` whose output is ``wanted``: its text
    and its output."""
    slot_list = _parsed(ctx.language).slot_lists.get(list_name)
    if not isinstance(slot_list, TextSlotList):
        return None
    values = [v for v in slot_list.values if wanted(v.value_out)]
    if not values:
        return None
    value = ctx.rng.choice(values)
    return " ".join(_walk(value.text_in, _NO_TEMPLATE, {}, ctx).split()), value.value_out


def _cover_class(ctx: Context, slots: dict[str, str], **filters: Any) -> str | None:
    """Pick a cover device class the home has and fill {cover_classes} with a word for it."""
    classes = sorted(
        {
            e.device_class
            for e in rules.select(ctx.home, domain="cover", **filters)
            if e.device_class
        }
    )
    if not classes:
        return None
    dc = ctx.rng.choice(classes)
    picked = _list_value("cover_classes", lambda out: dc in _outs(out), ctx)
    if picked is None:
        return None
    slots["cover_classes"] = picked[0]
    return dc


_NO_TEMPLATE = Template("", "", "", None, (), Sentence(Sequence([])), {}, frozenset(), "")


# --- resolvers ----------------------------------------------------------------------------------

_ON_OFF: Mapping[str, Mapping[str, str]] = {
    "HassTurnOn": {"lock": "lock", "cover": "open", "valve": "open"},
    "HassTurnOff": {"lock": "unlock", "cover": "close", "valve": "close"},
}


def _action(intent: str, domain: str) -> str:
    default = "on" if intent == "HassTurnOn" else "off"
    return _ON_OFF[intent].get(domain, default)


def _located(ctx: Context, template: Template, entity: Entity,
             slots: dict[str, str]) -> tuple[list[Entity], fr.Target] | None:  # fmt: skip
    """Fill {name} (and {area}/{floor} if the template has them); the entities it names, and
    the frame's target for them."""
    said, name = pick_name(ctx, entity)
    slots["name"] = said
    options = rules.named(ctx.home, name)
    area = floor = None
    if "area" in template.lists:
        if entity.area is None:
            return None
        slots["area"] = area_phrase(ctx, entity.area)
        options = [e for e in options if e.area == entity.area]
        area = entity.area
    if "floor" in template.lists:
        if entity.floor is None:
            return None
        slots["floor"] = floor_phrase(ctx, entity.floor)
        options = [e for e in options if e.floor == entity.floor]
        floor = entity.floor
    return options, fr.named(name, area, floor)


def _where(ctx: Context, template: Template, domain: str,
           slots: dict[str, str], **filters: Any) -> tuple[dict[str, Any], str | None] | None:  # fmt: skip
    """Pick the area or floor a group template addresses; return select() filters and speaker
    (a speaker area means the template said no place: the request is about "here")."""
    combo = template.combination
    action = filters.get("action")
    pool = rules.select(ctx.home, domain=domain, **filters)
    if not pool:
        return None
    entity = ctx.rng.choice(pool)
    if "area" in template.lists:
        if entity.area is None:
            return None
        slots["area"] = area_phrase(ctx, entity.area)
        return {"area": entity.area}, None
    if "floor" in template.lists:
        if entity.floor is None:
            return None
        slots["floor"] = floor_phrase(ctx, entity.floor)
        return {"floor": entity.floor}, None
    if combo in ("domain_only", "brightness_only", "color_only", "temperature_only", "default",
                 "device_class", "device_class_cover"):  # fmt: skip
        if entity.area is None:
            return None
        return {"area": entity.area}, entity.area
    del action
    return {}, None


def _turn(ctx: Context, template: Template) -> Made | None:
    slots: dict[str, str] = {}
    combo = template.combination
    if "name" in template.lists:
        domains = [d for d in template.domains if d in rules.ACTIONS["on"] or d == "lock"]
        pool = [e for e in ctx.home.entities.values() if e.domain in domains and
                rules.service_of(e, _action(template.intent, e.domain))]  # fmt: skip
        if not pool:
            return None
        entity = ctx.rng.choice(pool)
        located = _located(ctx, template, entity, slots)
        if located is None:
            return None
        options, target = located
        action = _action(template.intent, entity.domain)
        options = [e for e in options if rules.service_of(e, action)]
        plan = rules.one_or_ambiguous(options, action, ctx.language)
        return Made(plan, fr.act(target, action), slots, None)
    domain = template.domain
    if domain is None:
        return None
    action = _action(template.intent, domain)
    filters: dict[str, Any] = {"action": action}
    if "cover_classes" in template.lists:
        dc = _cover_class(ctx, slots)
        if dc is None:
            return None
        filters["device_class"] = dc
    where = _where(ctx, template, domain, slots, **filters)
    if where is None:
        return None
    found, speaker = where
    targets = rules.select(ctx.home, domain=domain, **filters, **found)
    plan = rules.act(targets, action, language=ctx.language, sweep=True)
    frame = fr.act(_group_target(domain, filters, found, speaker), action)
    kind = ""
    if plan is not None and plan.kind == "ambiguous":
        kind = "security"
    elif speaker is not None:
        kind = "speaker_area"
    del combo
    return Made(plan, frame, slots, speaker, kind)


def _group_target(
    domain: str, filters: Mapping[str, Any], found: Mapping[str, Any], speaker: str | None
) -> fr.Target:
    """The frame target of a group template: its area or floor, "here", or the whole home."""
    dc = filters.get("device_class")
    if speaker is not None:
        return fr.every(domain, dc, here=True)
    return fr.every(domain, dc, area=found.get("area"), floor=found.get("floor"))


def _outs(value_out: Any) -> list[Any]:
    return list(value_out) if isinstance(value_out, list | tuple) else [value_out]


_SET_LIST = {"brightness": "brightness", "color": "color", "color_temperature": "color_temp",
             "temperature": "temperature", "position": "position", "fan_speed": "fan_speed"}  # fmt: skip


def _set(ctx: Context, template: Template) -> Made | None:
    present = [name for name in _SET_LIST if name in template.lists]
    if len(present) != 1:
        return None
    list_name = present[0]
    action = _SET_LIST[list_name]
    if template.intent == "HassClimateSetTemperature":
        action, domain = "temperature", "climate"
    elif template.intent == "HassSetPosition":
        domain = "cover"
    elif template.intent == "HassFanSetSpeed":
        domain = "fan"
    else:
        domain = "light"
    slots: dict[str, str] = {}
    if "name" in template.lists:
        pool = [e for e in ctx.home.entities.values()
                if e.domain in (template.domains or (domain,)) and rules.service_of(e, action)]  # fmt: skip
        if not pool:
            return None
        entity = ctx.rng.choice(pool)
        located = _located(ctx, template, entity, slots)
        if located is None:
            return None
        options, target = located
        options = [e for e in options if rules.service_of(e, action)]
        value = _value(ctx, list_name, action, options or [entity], slots)
        if value is None:
            return None
        plan = rules.one_or_ambiguous(options, action, ctx.language, value=value)
        return Made(plan, fr.act(target, action, value), slots, None)
    filters: dict[str, Any] = {"action": action}
    if "cover_classes" in template.lists:
        dc = _cover_class(ctx, slots, action=action)
        if dc is None:
            return None
        filters["device_class"] = dc
    where = _where(ctx, template, domain, slots, **filters)
    if where is None:
        return None
    found, speaker = where
    if domain == "climate" and speaker is not None:
        targets = rules.climate_for(ctx.home, speaker)
        if len(targets) != 1:
            return None
        target = fr.Target("thermostat")
    else:
        targets = rules.select(ctx.home, domain=domain, **filters, **found)
        target = _group_target(domain, filters, found, speaker)
    value = _value(ctx, list_name, action, targets, slots)
    if value is None:
        return None
    plan = rules.act(targets, action, value=value, language=ctx.language, sweep=True)
    frame = fr.act(target, action, value)
    return Made(plan, frame, slots, speaker, "speaker_area" if speaker else "set_value")


def _value(ctx: Context, list_name: str, action: str, targets: list[Entity],
           slots: dict[str, str]) -> Any:  # fmt: skip
    """A value every target accepts, written into ``slots``."""
    if not targets:
        return None
    specs = [t.services[rules.ACTIONS[action][t.domain]][rules.ACTION_ARG[action]] for t in targets]
    if action == "color":
        allowed = set.intersection(*(set(s.enum or ()) for s in specs))
        picked = _list_value("color", lambda out: out in allowed, ctx)
        if picked is None:
            return None
        slots[list_name], color = picked
        return color
    lo = max(s.minimum if s.minimum is not None else 0 for s in specs)
    hi = min(s.maximum if s.maximum is not None else 100 for s in specs)
    if action == "temperature":
        lo, hi = max(lo, 15), min(hi, 26)
        value: float = float(ctx.rng.randint(int(lo), int(hi)))
        if lo > hi:
            return None
        slots[list_name] = ph.say_number(ctx.rng, ctx.language, value)
        return value
    if action == "color_temp":
        if lo > hi:
            return None
        kelvin = ctx.rng.randrange(int(lo) // 100 + 1, int(hi) // 100) * 100
        slots[list_name] = str(kelvin)
        return kelvin
    number = ctx.rng.choice([10, 20, 25, 30, 40, 50, 60, 70, 75, 80, 90, 100])
    slots[list_name] = ph.say_number(ctx.rng, ctx.language, number)
    return number


def _get_state(ctx: Context, template: Template) -> Made | None:
    slots: dict[str, str] = {}
    if "name" in template.lists:
        domains = [d for d in template.domains if d not in ("person", "media_player")]
        pool = [e for e in ctx.home.entities.values() if e.domain in domains]
        if not pool:
            return None
        entity = ctx.rng.choice(pool)
        located = _located(ctx, template, entity, slots)
        if located is None:
            return None
        options, target = located
        if len(options) > 1:
            return Made(rules.ambiguous(options, ctx.language), fr.query(target), slots, None)
        return Made(rules.query(options, ctx.language), fr.query(target), slots, None)
    domain = template.domain
    if domain is None or (domain not in rules.ACTIONS["on"] and domain != "lock"):
        return None
    filters: dict[str, Any] = {}
    if "cover_classes" in template.lists:
        dc = _cover_class(ctx, slots)
        if dc is None:
            return None
        filters["device_class"] = dc
    where = _where(ctx, template, domain, slots, **filters)
    if where is None:
        return None
    found, speaker = where
    targets = rules.select(ctx.home, domain=domain, **filters, **found)
    frame = fr.query(_group_target(domain, filters, found, speaker))
    return Made(rules.query(targets, ctx.language), frame, slots, speaker, "query")


def _get_temperature(ctx: Context, template: Template) -> Made | None:
    slots: dict[str, str] = {}
    if "name" in template.lists:
        pool = rules.select(ctx.home, domain="climate")
        if not pool:
            return None
        located = _located(ctx, template, ctx.rng.choice(pool), slots)
        if not located or not located[0]:
            return None
        options, target = located
        return Made(rules.query(options, ctx.language) if len(options) == 1 else
                    rules.ambiguous(options, ctx.language), fr.query(target), slots, None)  # fmt: skip
    sensors = [e for e in rules.select(ctx.home, domain="sensor", device_class="temperature")
               if e.area]  # fmt: skip
    if not sensors:
        return None
    area = ctx.rng.choice(sensors).area
    assert area is not None
    targets = rules.select(ctx.home, domain="sensor", device_class="temperature", area=area)
    if "area" in template.lists:
        slots["area"] = area_phrase(ctx, area)
        frame = fr.query(fr.every("sensor", "temperature", area=area))
        return Made(rules.query(targets, ctx.language), frame, slots, None, "query")
    if "floor" in template.lists:
        return None
    frame = fr.query(fr.every("sensor", "temperature", here=True))
    return Made(rules.query(targets, ctx.language), frame, slots, area, "query")


def _no_device(ctx: Context, template: Template) -> Made | None:
    slots: dict[str, str] = {}
    if "name" in template.lists:
        slots["name"] = ctx.rng.choice(_WILDCARDS[ctx.language]["name"])
    area = None
    if "area" in template.lists or template.combination == "default":
        if not ctx.home.areas:
            return None
        area = ctx.rng.choice(sorted(ctx.home.areas))
        if "area" in template.lists:
            slots["area"] = area_phrase(ctx, area)
            area = None
    if "floor" in template.lists:
        floors = sorted({a.floor for a in ctx.home.areas.values() if a.floor})
        if not floors:
            return None
        slots["floor"] = floor_phrase(ctx, ctx.rng.choice(floors))
    plan = rules.unsupported("no_such_device", ctx.language)
    return Made(plan, fr.refuse("no_such_device"), slots, area)


RESOLVERS: dict[str, Callable[[Context, Template], Made | None]] = {
    "HassTurnOn": _turn,
    "HassTurnOff": _turn,
    "HassLightSet": _set,
    "HassClimateSetTemperature": _set,
    "HassSetPosition": _set,
    "HassFanSetSpeed": _set,
    "HassGetState": _get_state,
    "HassClimateGetTemperature": _get_temperature,
}
