"""Imports point down: the import-linter contracts of pyproject.toml hold, and they bite.

foundation <- messaging <- runtime <- exercises | hiring | bonus <- the command line, chaos and
simulation; inside a service domain <- service_layer <- settings <- adapters <- entrypoints
<- bootstrap (docs/architecture.md, "Layers").
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import grimp
import pytest
from importlinter.api import read_configuration
from importlinter.cli import lint_imports
from importlinter.contracts.forbidden import ForbiddenContract
from importlinter.contracts.independence import IndependenceContract
from importlinter.contracts.layers import LayersContract
from importlinter.domain.contract import Contract

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
CONTRACT_TYPES: dict[str, type[Contract]] = {
    "layers": LayersContract,
    "independence": IndependenceContract,
    "forbidden": ForbiddenContract,
}
SERVICES = ("exercises", "hiring", "bonus")


def _contract(contract_id: str) -> Contract:
    """The contract of pyproject.toml with this id, as lint-imports reads it."""
    config: dict[str, Any] = read_configuration(str(PYPROJECT))
    options = next(c for c in config["contracts_options"] if c["id"] == contract_id)
    return CONTRACT_TYPES[options["type"]](
        name=options["name"], session_options=config["session_options"], contract_options=options
    )


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("teacher_hiring", include_external_packages=True, cache_dir=None)


def test_lint_imports_keeps_every_contract(capsys: pytest.CaptureFixture[str]) -> None:
    status = lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


@pytest.mark.parametrize(
    ("contract_id", "importer", "imported"),
    [
        ("packages", "teacher_hiring.foundation.time", "teacher_hiring.messaging.envelope"),
        ("packages", "teacher_hiring.messaging.outbox", "teacher_hiring.runtime.db"),
        ("packages", "teacher_hiring.runtime.service", "teacher_hiring.hiring.bootstrap"),
        ("packages", "teacher_hiring.bonus.domain.model", "teacher_hiring.chaos.run"),
        (
            "service-layers",
            "teacher_hiring.hiring.domain.model",
            "teacher_hiring.hiring.service_layer.handlers",
        ),
        (
            "service-layers",
            "teacher_hiring.hiring.service_layer.handlers",
            "teacher_hiring.hiring.adapters.views",
        ),
        (
            "service-layers",
            "teacher_hiring.exercises.adapters.repository",
            "teacher_hiring.exercises.entrypoints.http",
        ),
        (
            "services-independent",
            "teacher_hiring.hiring.service_layer.handlers",
            "teacher_hiring.bonus.domain.model",
        ),
        ("domain-pure", "teacher_hiring.bonus.domain.model", "sqlalchemy"),
        ("domain-pure", "teacher_hiring.exercises.domain.model", "teacher_hiring.messaging.outbox"),
        ("service-layer-no-web", "teacher_hiring.hiring.service_layer.handlers", "httpx"),
        ("reconciliation-ports", "teacher_hiring.bonus.service_layer.reconciliation", "sqlalchemy"),
    ],
)
def test_an_upward_import_breaks_its_contract(
    graph: grimp.ImportGraph, contract_id: str, importer: str, imported: str
) -> None:
    contract = _contract(contract_id)
    assert contract.check(copy.deepcopy(graph), verbose=False).kept

    with_upward_import = copy.deepcopy(graph)
    with_upward_import.add_import(
        importer=importer, imported=imported, line_number=1, line_contents=f"import {imported}"
    )
    check = contract.check(with_upward_import, verbose=False)

    assert not check.kept
    assert importer in repr(check.metadata)


def test_a_module_no_layer_names_breaks_the_exhaustive_contracts(
    graph: grimp.ImportGraph,
) -> None:
    with_stray_module = copy.deepcopy(graph)
    with_stray_module.add_module("teacher_hiring.helpers")
    with_stray_module.add_module("teacher_hiring.hiring.helpers")

    assert not _contract("packages").check(with_stray_module, verbose=False).kept
    assert not _contract("service-layers").check(with_stray_module, verbose=False).kept


@pytest.mark.parametrize("service", SERVICES)
def test_a_domain_imports_only_the_standard_library_and_foundation(
    graph: grimp.ImportGraph, service: str
) -> None:
    domain = f"teacher_hiring.{service}.domain"
    allowed = (f"{domain}.", "teacher_hiring.foundation.")
    outside = {
        (module, imported)
        for module in graph.find_descendants(domain) | {domain}
        for imported in graph.find_modules_directly_imported_by(module)
        if not imported.startswith(allowed)
        and imported.split(".")[0] not in sys.stdlib_module_names
    }
    assert outside == set()
