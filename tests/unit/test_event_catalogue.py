"""The generated docs (docs/events.md, docs/asyncapi.yaml) are what the schemas generate today,
and the links table they show agrees with SPEC section 4 and with the code."""

from __future__ import annotations

import importlib
import re
import shutil
import typing
from pathlib import Path

import pytest
from event_wiring import SERVICES, reads, routes
from fastapi import APIRouter
from typer.testing import CliRunner

from missing_part import missing
from teacher_hiring.cli import app
from teacher_hiring.messaging.catalogue import documents, render
from teacher_hiring.messaging.link_table import Link, load_links
from teacher_hiring.messaging.registry import RegistryError, SchemaRegistry

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs"
SCHEMAS = REPO / "schemas"
SPEC = REPO.parent / "shared" / "SPEC.md"


@pytest.fixture(scope="module")
def registry() -> SchemaRegistry:
    return SchemaRegistry.load(SCHEMAS)


@pytest.fixture(scope="module")
def links(registry: SchemaRegistry) -> tuple[Link, ...]:
    return load_links(registry, SCHEMAS)


@pytest.mark.parametrize("name", ["events.md", "asyncapi.yaml"])
def test_the_generated_docs_are_up_to_date_with_the_schemas(
    registry: SchemaRegistry, links: tuple[Link, ...], name: str
) -> None:
    expected = documents(registry, links)[name]
    path = DOCS / name
    assert path.is_file(), f"docs/{name} is missing: run `teacher-hiring catalogue --write`"
    assert path.read_text(encoding="utf-8") == expected, (
        f"docs/{name} is stale: run `teacher-hiring catalogue --write`"
    )


def test_catalogue_check_names_the_stale_file(tmp_path: Path) -> None:
    runner = CliRunner()
    written = runner.invoke(app, ["catalogue", "--write", "--docs-dir", str(tmp_path)])
    assert written.exit_code == 0, written.output
    assert runner.invoke(app, ["catalogue", "--check", "--docs-dir", str(tmp_path)]).exit_code == 0
    (tmp_path / "asyncapi.yaml").write_text("asyncapi: 3.0.0\n")
    stale = runner.invoke(app, ["catalogue", "--check", "--docs-dir", str(tmp_path)])
    assert stale.exit_code == 1
    said = "".join(stale.output.split())  # the console wraps long paths anywhere
    assert "asyncapi.yamlisstale" in said
    assert "events.mdisstale" not in said


def test_the_catalogue_lists_every_event_with_its_topic_key_and_dead_letters(
    registry: SchemaRegistry, links: tuple[Link, ...]
) -> None:
    text = render(registry, links)
    for spec in registry.events():
        assert f"## {spec.name}" in text
        assert f"topic `{spec.topic}`, partition key `{spec.key}`" in text
        assert f"dead letters `{spec.topic}.dlq`" in text
        for version in spec.versions:
            assert f"### {spec.name} v{version} payload" in text


def test_the_catalogue_shows_every_link_with_its_events_and_mode_flag(
    registry: SchemaRegistry, links: tuple[Link, ...]
) -> None:
    text = render(registry, links)
    rows = {line.split("|")[1].strip(): line for line in text.splitlines() if "→" in line}
    for link in links:
        row = rows[link.link]
        assert all(f"`{event}`" in row for event in link.events)
        assert all(f"`{endpoint.call}` on {endpoint.service}" in row for endpoint in link.endpoints)
        if link.mode_flag is not None:
            assert f"`{link.mode_flag.flag}`" in row
            assert f"`{link.mode_flag.setting}`" in row


# --- links.yaml against SPEC section 4 and the code ----------------------------------------------


def spec_links() -> list[str]:
    if not SPEC.is_file():
        missing(f"SPEC.md is not next to the repo ({SPEC})")
    section = SPEC.read_text(encoding="utf-8").split("## 4.", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ")]
    return [row.split("|")[1].strip() for row in rows[1:]]


def test_links_yaml_has_every_link_of_spec_section_4_in_order(links: tuple[Link, ...]) -> None:
    assert [link.link for link in links] == spec_links()


def _routes_of(service: str) -> set[tuple[str, str]]:
    module = importlib.import_module(f"teacher_hiring.{service}.entrypoints.http")
    routers = [value for value in vars(module).values() if isinstance(value, APIRouter)]
    return {
        (method, route.path)
        for router in routers
        for route in router.routes
        for method in getattr(route, "methods", ())
    }


def test_every_endpoint_a_link_names_exists_on_its_service(links: tuple[Link, ...]) -> None:
    for link in links:
        for endpoint in link.endpoints:
            assert (endpoint.method, endpoint.path) in _routes_of(endpoint.service), (
                f"schemas/links.yaml: {link.link} names {endpoint.call} on {endpoint.service}, "
                "which has no such route"
            )


def test_every_mode_flag_is_a_setting_and_a_link_of_its_service(links: tuple[Link, ...]) -> None:
    switchable = [link for link in links if link.mode_flag is not None]
    assert switchable
    found = {(route.service, f"link.{route.name}"): route for s in SERVICES for route in routes(s)}
    reading = {(read.service, f"link.{read.name}"): read for s in SERVICES for read in reads(s)}
    for link in switchable:
        flag = link.mode_flag
        assert flag is not None
        prefix, _, field = flag.setting.partition("_")
        assert prefix.lower() == flag.service, (
            f"{link.link}: {flag.setting} is not a setting of {flag.service}"
        )
        settings_module = importlib.import_module(f"teacher_hiring.{flag.service}.settings")
        settings = next(
            value
            for name, value in vars(settings_module).items()
            if name.endswith("Settings") and name != "ServiceSettings"
        )
        declared = settings.model_fields[field.lower()].annotation
        assert set(typing.get_args(declared)) == set(flag.modes), link.link
        if (flag.service, flag.flag) in reading:
            # A read link: its reader holds the flag and, in call mode, asks the link's source.
            read = reading[(flag.service, flag.flag)]
            assert flag.service in link.targets and read.receiver == link.source, link.link
            continue
        route = found[(flag.service, flag.flag)]
        assert route.event in link.events
        assert (route.receiver,) == link.targets


# --- links.yaml is checked on load --------------------------------------------------------------


@pytest.mark.parametrize(
    ("old", "new", "problem"),
    [
        ("events: [BonusAdded]", "events: [BonusRemoved]", "event BonusRemoved is not in"),
        (
            "events: [PaymentCommited]",
            "events: [FineAdded]",
            "FineAdded is produced by hiring, not by exercises (from)",
        ),
        ("to: [hiring, bonus]", "to: [hiring, exercises]", "exercises (to) is not among"),
        ("link: COMM-050", "link: COMM-040", "COMM-040 is listed twice"),
        ("  what: credit a bonus\n", "", "COMM-040: missing what"),
        ('call: "GET /candidates"}', 'call: "/candidates"}', "an endpoint is"),
        ("    modes: [push, event]", "    modes: [push]", "mode_flag needs"),
        (
            "    presets: {before: push, after: push}",
            "    presets: {before: sync, after: push}",
            "presets name modes the link does not have (before: sync)",
        ),
        (
            "    presets: {before: push, after: push}",
            "    presets: {after: push}",
            "link.exercise-updates has no mode in preset before",
        ),
        ("from: hiring\n  to: [bonus]", "from: payroll\n  to: [bonus]", "payroll is not a"),
    ],
)
def test_load_refuses_a_links_file_that_contradicts_the_catalogue(
    tmp_path: Path, registry: SchemaRegistry, old: str, new: str, problem: str
) -> None:
    folder = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, folder)
    path = folder / "links.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(RegistryError, match=re.escape(problem)):
        load_links(registry, folder)
