"""The links between the services (SPEC section 4), read from `schemas/links.yaml`.

Kept as data next to the event catalogue so that the generated documentation shows one table,
and checked against the registry on load: a link cannot name an event that does not exist, or
claim a direction that events.yaml contradicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import yaml

from teacher_hiring.messaging.registry import RegistryError, SchemaRegistry, default_schemas_dir

LINKS_FILE = "links.yaml"

_FIELDS = ("link", "what", "from", "to", "form", "events", "endpoints", "mode_flag")
_REQUIRED = ("link", "what", "from", "to", "form")
_FLAG_FIELDS = ("flag", "service", "setting", "modes", "presets")
_CALL = re.compile(r"(GET|POST|PUT|PATCH|DELETE) /\S*")


@dataclass(frozen=True, slots=True)
class Endpoint:
    """An HTTP call that is part of a link: `call` is "METHOD /path" on `service`."""

    service: str
    call: str

    @property
    def method(self) -> str:
        return self.call.split(" ", 1)[0]

    @property
    def path(self) -> str:
        return self.call.split(" ", 1)[1]


@dataclass(frozen=True, slots=True)
class ModeFlag:
    """The runtime flag that switches a link's form, the setting it starts from, and its mode
    in each preset of the whole platform's wiring (`before`, `after`)."""

    flag: str
    service: str
    setting: str
    modes: tuple[str, ...]
    presets: tuple[tuple[str, str], ...]  # (preset, mode), in the file's order

    @property
    def link_name(self) -> str:
        """The link's name at its service's /operator/links: the flag without `link.`."""
        return self.flag.removeprefix("link.")

    def preset(self, name: str) -> str:
        """This link's mode in the preset `name`."""
        return dict(self.presets)[name]


@dataclass(frozen=True, slots=True)
class Link:
    link: str
    what: str
    source: str
    targets: tuple[str, ...]
    form: str
    events: tuple[str, ...]
    endpoints: tuple[Endpoint, ...]
    mode_flag: ModeFlag | None


def load_links(registry: SchemaRegistry, directory: Path | None = None) -> tuple[Link, ...]:
    """Read links.yaml beside the schemas; raises RegistryError listing every problem found."""
    root: Traversable = directory if directory is not None else default_schemas_dir()
    path = root / LINKS_FILE
    where = LINKS_FILE
    if not path.is_file():
        raise RegistryError(f"{where}: missing from {root}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RegistryError(f"{where}: not valid YAML: {exc}") from exc
    if not isinstance(data, list):
        raise RegistryError(f"{where}: must be a list of links")
    problems: list[str] = []
    links = [_link(entry, index, registry, problems) for index, entry in enumerate(data)]
    names = [link.link for link in links if link is not None]
    problems += [f"{where}: {name} is listed twice" for name in sorted(_twice(names))]
    problems += _uneven_presets([link for link in links if link is not None])
    if problems:
        raise RegistryError(f"{where} is inconsistent:\n  " + "\n  ".join(problems))
    return tuple(link for link in links if link is not None)


def _twice(names: list[str]) -> set[str]:
    return {name for name in names if names.count(name) > 1}


def _uneven_presets(links: list[Link]) -> list[str]:
    """Every switchable link must have a mode in every preset any of them names."""
    flags = [link.mode_flag for link in links if link.mode_flag is not None]
    every = {name for flag in flags for name, _ in flag.presets}
    return [
        f"{LINKS_FILE}: {flag.flag} has no mode in preset {name}"
        for flag in flags
        for name in sorted(every - {name for name, _ in flag.presets})
    ]


def _link(entry: object, index: int, registry: SchemaRegistry, problems: list[str]) -> Link | None:
    where = f"{LINKS_FILE}: entry {index + 1}"
    if not isinstance(entry, dict):
        problems.append(f"{where}: must be a mapping")
        return None
    if isinstance(entry.get("link"), str):
        where = f"{LINKS_FILE}: {entry['link']}"
    before = len(problems)
    missing = [field for field in _REQUIRED if field not in entry]
    unknown = sorted(str(field) for field in set(entry) - set(_FIELDS))
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    if unknown:
        problems.append(f"{where}: unknown fields {', '.join(unknown)}")
    for field in ("link", "what", "from", "form"):
        if field in entry and not _text(entry[field]):
            problems.append(f"{where}: {field} must be a non-empty string")
    targets = _strings(entry.get("to"), f"{where}: to", problems, allow_empty=False)
    events = _strings(entry.get("events", []), f"{where}: events", problems)
    endpoints = _endpoints(entry.get("endpoints", []), where, problems)
    mode_flag = _mode_flag(entry.get("mode_flag"), where, problems)
    if len(problems) != before:
        return None
    link = Link(
        link=entry["link"],
        what=entry["what"],
        source=entry["from"],
        targets=targets,
        form=" ".join(entry["form"].split()),
        events=events,
        endpoints=endpoints,
        mode_flag=mode_flag,
    )
    problems += _contradictions(link, registry, where)
    return link


def _contradictions(link: Link, registry: SchemaRegistry, where: str) -> list[str]:
    specs = {spec.name: spec for spec in registry.events()}
    services = {spec.producer for spec in specs.values()}
    services |= {consumer for spec in specs.values() for consumer in spec.consumers}
    problems = [
        f"{where}: {service} is not a service that events.yaml names"
        for service in (link.source, *link.targets)
        if service not in services
    ]
    for name in link.events:
        spec = specs.get(name)
        if spec is None:
            problems.append(f"{where}: event {name} is not in events.yaml")
            continue
        if spec.producer != link.source:
            problems.append(
                f"{where}: {name} is produced by {spec.producer}, not by {link.source} (from)"
            )
        for target in link.targets:
            if target not in spec.consumers:
                problems.append(f"{where}: {target} (to) is not among the consumers of {name}")
    return problems


def _text(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _strings(
    value: object, where: str, problems: list[str], *, allow_empty: bool = True
) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(_text(item) for item in value):
        problems.append(f"{where}: must be a list of names")
        return ()
    if not value and not allow_empty:
        problems.append(f"{where}: must name at least one service")
    return tuple(value)


def _endpoints(value: object, where: str, problems: list[str]) -> tuple[Endpoint, ...]:
    if not isinstance(value, list):
        problems.append(f"{where}: endpoints must be a list")
        return ()
    found: list[Endpoint] = []
    for item in value:
        if (
            not isinstance(item, dict)
            or set(item) != {"service", "call"}
            or not _text(item["service"])
            or not isinstance(item["call"], str)
            or not _CALL.fullmatch(item["call"])
        ):
            problems.append(f"{where}: an endpoint is {{service: name, call: 'METHOD /path'}}")
            continue
        found.append(Endpoint(item["service"], item["call"]))
    return tuple(found)


def _mode_flag(value: Any, where: str, problems: list[str]) -> ModeFlag | None:
    if value is None:
        return None
    if (
        not isinstance(value, dict)
        or set(value) != set(_FLAG_FIELDS)
        or not all(_text(value[field]) for field in ("flag", "service", "setting"))
        or not isinstance(value["modes"], list)
        or len(value["modes"]) < 2
        or not all(_text(mode) for mode in value["modes"])
    ):
        problems.append(f"{where}: mode_flag needs {', '.join(_FLAG_FIELDS)} (two modes or more)")
        return None
    presets = value["presets"]
    if (
        not isinstance(presets, dict)
        or not presets
        or not all(_text(name) and _text(mode) for name, mode in presets.items())
    ):
        problems.append(f"{where}: mode_flag presets must map each preset to a mode")
        return None
    strange = sorted(f"{n}: {m}" for n, m in presets.items() if m not in value["modes"])
    if strange:
        problems.append(
            f"{where}: presets name modes the link does not have ({', '.join(strange)})"
        )
        return None
    return ModeFlag(
        value["flag"],
        value["service"],
        value["setting"],
        tuple(value["modes"]),
        tuple(presets.items()),
    )
