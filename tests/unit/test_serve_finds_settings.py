"""`teacher-hiring serve` takes the one *Settings class a service's settings module defines:
a settings class imported there by name (a mixin) would be taken instead."""

from __future__ import annotations

import importlib

import pytest


@pytest.mark.parametrize("service", ["exercises", "hiring", "bonus", "web"])
def test_each_settings_module_names_one_settings_class_its_own(service: str) -> None:
    module = importlib.import_module(f"teacher_hiring.{service}.settings")
    found = [
        value
        for name, value in vars(module).items()
        if name.endswith("Settings") and name != "ServiceSettings"
    ]
    assert len(found) == 1 and found[0].__module__ == module.__name__, found
