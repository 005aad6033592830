"""What the services' code really publishes and consumes, to compare with schemas/events.yaml.

Publishing is found statically, by reading each service package: every `.stage(<event>, ...)`
call (the outbox is the only way an event leaves a service), every `Envelope.new(<event>, ...)`,
and every `SwitchableLink(event_name=..., receiver=...)` or `HttpCall(...)` with the
same keywords (a link that sends a staged event to its receiver over HTTP instead of the log).
An event name must be a string literal or a module-level string constant, so the scan cannot
miss one; anything else is an error naming the file and line. Consuming is found by running
each service's `bootstrap()` up to the call that builds its runtime, and reading the
subscriptions it was given.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from teacher_hiring.runtime.links import MoneyCall

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
SERVICES = ("exercises", "hiring", "bonus")
EVENTS_YAML = "schemas/events.yaml"


class ScanError(AssertionError):
    """The code publishes in a way the scan cannot read."""


@dataclass(frozen=True)
class Use:
    """One service publishing or consuming one event, and where the code says so."""

    service: str
    event: str
    where: str


@dataclass(frozen=True)
class Route:
    """A link that delivers `event`, staged by `service`, to `receiver` over HTTP."""

    service: str
    event: str
    receiver: str
    where: str
    name: str | None = None  # the link's name; its runtime flag is link.<name>


# --- reading the code ----------------------------------------------------------------------------


@dataclass
class _Module:
    name: str
    path: Path
    tree: ast.Module
    constants: dict[str, str]
    imports: dict[str, tuple[str, str | None]]  # alias -> (module, name in it or None)


def _module_path(module: str) -> Path | None:
    base = SRC.joinpath(*module.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


@cache
def _load(module: str) -> _Module | None:
    path = _module_path(module)
    if path is None:
        return None
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    constants: dict[str, str] = {}
    imports: dict[str, tuple[str, str | None]] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign) and isinstance(node.value, ast.Constant):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    constants[target.id] = node.value.value
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                imports[alias.asname or alias.name] = (node.module, alias.name)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                imports[alias.asname or alias.name.split(".")[0]] = (alias.name, None)
    return _Module(module, path, tree, constants, imports)


def _constant(module: str, name: str, depth: int = 0) -> str | None:
    found = _load(module)
    if found is None or depth > 5:
        return None
    if name in found.constants:
        return found.constants[name]
    if name in found.imports:
        source, attr = found.imports[name]
        if attr is not None:
            return _constant(source, attr, depth + 1)
    return None


def resolve(module: str, expr: ast.expr) -> str | None:
    """The string an expression always has: a literal, or a module constant (maybe imported)."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return expr.value
    if isinstance(expr, ast.Name):
        return _constant(module, expr.id)
    if isinstance(expr, ast.Attribute) and isinstance(expr.value, ast.Name):
        found = _load(module)
        if found is None or expr.value.id not in found.imports:
            return None
        source, attr = found.imports[expr.value.id]
        target = f"{source}.{attr}" if attr is not None else source
        return _constant(target, expr.attr)
    return None


def _service_modules(service: str) -> Iterator[str]:
    package = SRC / "teacher_hiring" / service
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(SRC).with_suffix("")
        parts = relative.parts[:-1] if relative.name == "__init__" else relative.parts
        yield ".".join(parts)


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _calls(tree: ast.Module) -> Iterator[tuple[ast.Call, Function | None]]:
    """Every call, with the function it is written in."""

    def walk(node: ast.AST, function: Function | None) -> Iterator[Any]:
        for child in ast.iter_child_nodes(node):
            inner = child if isinstance(child, Function) else function
            if isinstance(child, ast.Call):
                yield child, function
            yield from walk(child, inner)

    yield from walk(tree, None)


def _callee(call: ast.Call) -> str:
    func = call.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _event_argument(call: ast.Call, index: int) -> ast.expr | None:
    for keyword in call.keywords:
        if keyword.arg == "event_name":
            return keyword.value
    return call.args[index] if len(call.args) > index else None


def _parameters(function: Function) -> list[str]:
    args = function.args
    return [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]


_Call = tuple[str, ast.Call, Function | None]  # module, call, the function it is written in


def _all_calls(service: str) -> list[_Call]:
    found: list[_Call] = []
    for module in _service_modules(service):
        loaded = _load(module)
        assert loaded is not None
        found += [(module, call, function) for call, function in _calls(loaded.tree)]
    return found


def _where(module: str, node: ast.AST) -> str:
    loaded = _load(module)
    assert loaded is not None
    return f"{loaded.path.relative_to(REPO)}:{getattr(node, 'lineno', 0)}"


def _names(
    module: str,
    argument: ast.expr | None,
    function: Function | None,
    site: ast.Call,
    calls: list[_Call],
    depth: int = 0,
) -> list[tuple[str, str]]:
    """The events an event-name argument can be, each with the place it is written.

    A parameter of a helper (`def _stage_manager(uow, event_name, ...)`) is followed to every
    call of that helper in the service; the wrapper `stage` methods are not publications.
    """
    name = resolve(module, argument) if argument is not None else None
    if name is not None:
        return [(name, _where(module, site))]
    parameter = argument.id if isinstance(argument, ast.Name) else None
    if function is not None and parameter in _parameters(function) and depth < 5:
        if function.name == "stage":
            return []
        index = _parameters(function).index(parameter)
        found: list[tuple[str, str]] = []
        callers = [c for c in calls if _callee(c[1]) == function.name and c[1] is not site]
        for caller_module, call, caller_function in callers:
            shift = 1 if _parameters(function)[:1] in (["self"], ["cls"]) else 0
            given = next((k.value for k in call.keywords if k.arg == parameter), None)
            if given is None and len(call.args) > index - shift >= 0:
                given = call.args[index - shift]
            found += _names(caller_module, given, caller_function, call, calls, depth + 1)
        if callers:
            return found
    shown = ast.unparse(argument) if argument is not None else "nothing"
    raise ScanError(
        f"{_where(module, site)}: the event name of `{ast.unparse(site.func)}(...)` is "
        f"{shown}, not a string literal or a module-level string constant (directly or through "
        "a helper's parameter), so the catalogue check cannot see which event it publishes; "
        "name the event there"
    )


def published(service: str) -> list[Use]:
    """Every event the service's code stages (or builds as an envelope), with its place."""
    uses: list[Use] = []
    calls = _all_calls(service)
    for module, call, function in calls:
        callee = _callee(call)
        if callee == "stage_envelope":
            raise ScanError(
                f"{_where(module, call)}: stage_envelope re-sends a built envelope, whose event "
                "the scan cannot see; stage the event by name, or teach "
                "tests/unit/event_wiring.py"
            )
        receiver = ast.unparse(call.func.value) if isinstance(call.func, ast.Attribute) else ""
        if callee == "stage":
            # UnitOfWork.stage(event_name, payload); Outbox.stage(conn, event_name, payload)
            argument = _event_argument(call, 1 if "outbox" in receiver.lower() else 0)
        elif callee == "new" and receiver.endswith("Envelope"):
            argument = _event_argument(call, 0)
        else:
            continue
        for name, where in _names(module, argument, function, call, calls):
            uses.append(Use(service, name, where))
    return uses


LINK_BUILDERS = {"SwitchableLink", "HttpCall", "MoneyCall"}
"""The calls that build a link sending a staged event over HTTP (runtime/links.py); a MoneyCall
names no receiver: it is always MoneyCall.RECEIVER."""


def routes(service: str) -> list[Route]:
    """Every SwitchableLink the service builds: a staged event sent to a receiver by HTTP."""
    found_routes: list[Route] = []
    for module in _service_modules(service):
        found = _load(module)
        assert found is not None
        for call, _ in _calls(found.tree):
            if _callee(call) not in LINK_BUILDERS:
                continue
            where = f"{found.path.relative_to(REPO)}:{call.lineno}"
            given = {k.arg: k.value for k in call.keywords if k.arg}
            event = resolve(module, given["event_name"]) if "event_name" in given else None
            receiver = resolve(module, given["receiver"]) if "receiver" in given else None
            if _callee(call) == "MoneyCall":
                receiver = MoneyCall.RECEIVER
            if event is None or receiver is None:
                raise ScanError(
                    f"{where}: SwitchableLink needs event_name= and receiver= as string "
                    "literals or module constants, so the catalogue check can read them"
                )
            name = resolve(module, given["name"]) if "name" in given else None
            found_routes.append(Route(service, event, receiver, where, name))
    return found_routes


def reads(service: str) -> list[Route]:
    """Every SwitchableRead the service builds: data it reads from `receiver` by HTTP on a
    request instead of from its replica (`event` is empty: a read carries none)."""
    found_reads: list[Route] = []
    for module in _service_modules(service):
        found = _load(module)
        assert found is not None
        for call, _ in _calls(found.tree):
            if _callee(call) != "SwitchableRead":
                continue
            where = f"{found.path.relative_to(REPO)}:{call.lineno}"
            given = {k.arg: k.value for k in call.keywords if k.arg}
            name = resolve(module, given["name"]) if "name" in given else None
            receiver = resolve(module, given["receiver"]) if "receiver" in given else None
            if name is None or receiver is None:
                raise ScanError(
                    f"{where}: SwitchableRead needs name= and receiver= as string literals or "
                    "module constants, so the catalogue check can read them"
                )
            found_reads.append(Route(service, "", receiver, where, name))
    return found_reads


class _Built(Exception):
    pass


def consumed(service: str) -> list[Use]:
    """Every event the service subscribes to, read from what its bootstrap() builds."""
    module = importlib.import_module(f"teacher_hiring.{service}.bootstrap")
    assemble = getattr(module, "assemble", None)
    if assemble is None:
        raise ScanError(
            f"teacher_hiring.{service}.bootstrap does not use runtime.assemble; tell "
            "tests/unit/event_wiring.py where it builds its subscriptions"
        )
    given: list[Any] = []

    def capture(*args: Any, **kwargs: Any) -> Any:
        given.extend(inspect.signature(assemble).bind(*args, **kwargs).arguments["subscriptions"])
        raise _Built

    module.assemble = capture
    try:
        module.bootstrap()
    except _Built:
        pass
    else:
        raise ScanError(f"teacher_hiring.{service}.bootstrap() never called assemble()")
    finally:
        module.assemble = assemble
    return [
        Use(service, event, f"consumer group {subscription.group}")
        for subscription in given
        for event in subscription.handlers
    ]


# --- comparing with the catalogue ----------------------------------------------------------------


def mismatches(
    catalogue: Mapping[str, tuple[str, Sequence[str]]],
    publishing: Sequence[Use],
    consuming: Sequence[Use],
    link_routes: Sequence[Route] = (),
    scanned: Sequence[str] = SERVICES,
) -> list[str]:
    """Every disagreement between the code and events.yaml (`catalogue`: event name ->
    (producer, consumers)), each saying what to change."""
    found: list[str] = []
    for use in publishing:
        if use.event not in catalogue:
            found.append(
                f"{use.service} publishes {use.event} ({use.where}), which {EVENTS_YAML} does "
                f"not list: add it there (producer: {use.service}) with "
                f"schemas/{use.event}/v0.json, or stop publishing it"
            )
        elif catalogue[use.event][0] != use.service:
            found.append(
                f"{use.service} publishes {use.event} ({use.where}), but {EVENTS_YAML} names "
                f"{catalogue[use.event][0]} as its one producer: correct the producer there, "
                f"or stop publishing it from {use.service}"
            )
    for use in consuming:
        if use.event not in catalogue:
            found.append(
                f"{use.service} subscribes to {use.event} ({use.where}), which {EVENTS_YAML} "
                "does not list: add it there, or remove the subscription"
            )
        elif use.service not in catalogue[use.event][1]:
            found.append(
                f"{use.service} subscribes to {use.event} ({use.where}), but {EVENTS_YAML} "
                f"does not list it among the consumers of {use.event}: add {use.service} to "
                "its consumers"
            )
    staged = {(use.service, use.event) for use in publishing}
    subscribed = {(use.service, use.event) for use in consuming}
    for route in link_routes:
        if (route.service, route.event) not in staged:
            found.append(
                f"{route.service} routes {route.event} to {route.receiver} ({route.where}) but "
                "never stages it: a link only changes how a staged event travels"
            )
        if route.event in catalogue and route.receiver not in catalogue[route.event][1]:
            found.append(
                f"{route.service} sends {route.event} to {route.receiver} over HTTP "
                f"({route.where}), but {EVENTS_YAML} does not list {route.receiver} among its "
                "consumers: add it there"
            )
    for event, (producer, consumers) in sorted(catalogue.items()):
        if producer in scanned and (producer, event) not in staged:
            found.append(
                f"{EVENTS_YAML} names {producer} as the producer of {event}, but nothing in "
                f"src/teacher_hiring/{producer} stages it: stage it there, correct the "
                "producer, or remove the event"
            )
        elif producer not in scanned:
            found.append(
                f"{EVENTS_YAML} names {producer} as the producer of {event}, which is not a "
                f"service ({', '.join(scanned)})"
            )
        for consumer in consumers:
            if consumer in scanned and (consumer, event) not in subscribed:
                found.append(
                    f"{EVENTS_YAML} lists {consumer} among the consumers of {event}, but no "
                    f"subscription of {consumer} handles it: subscribe to it in "
                    f"src/teacher_hiring/{consumer}/entrypoints/consumers.py, or remove "
                    f"{consumer} from its consumers"
                )
            elif consumer not in scanned:
                found.append(
                    f"{EVENTS_YAML} lists {consumer} among the consumers of {event}, which is "
                    f"not a service ({', '.join(scanned)})"
                )
    return found
