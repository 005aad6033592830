"""The secret in the settings: refused when default outside development or too short, shared by
every service `teacher-hiring run` starts, and what `teacher-hiring token` signs with."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.cli import app
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.runtime.auth_settings import DEVELOPMENT_SECRET, PlatformAuthSettings
from teacher_hiring.runtime.processes import SERVICES, Deployment
from teacher_hiring.runtime.settings import ServiceSettings
from teacher_hiring.runtime.tokens import InvalidToken, Role, Tokens

runner = CliRunner()
OWN_SECRET = "a-production-secret-of-at-least-32-bytes"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "exercises": ExercisesSettings,
    "hiring": HiringSettings,
    "bonus": BonusSettings,
}


@pytest.fixture(autouse=True)
def _no_inherited_auth_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for prefix in ("EXERCISES_", "HIRING_", "BONUS_", "TEACHER_HIRING_"):
        monkeypatch.delenv(prefix + "ENVIRONMENT", raising=False)
        monkeypatch.delenv(prefix + "AUTH_SECRET", raising=False)


@pytest.mark.parametrize("service", SERVICES)
def test_development_runs_on_the_well_known_secret(service: str) -> None:
    settings = SETTINGS[service]()

    assert settings.environment == "development"
    assert settings.auth_secret.get_secret_value() == DEVELOPMENT_SECRET


@pytest.mark.parametrize("service", SERVICES)
def test_production_refuses_the_development_secret(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{service.upper()}_ENVIRONMENT", "production")

    with pytest.raises(ValidationError, match=f"set {service.upper()}_AUTH_SECRET"):
        SETTINGS[service]()


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_secret_shorter_than_32_bytes_is_refused(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIRING_ENVIRONMENT", environment)
    monkeypatch.setenv("HIRING_AUTH_SECRET", "x" * 31)

    with pytest.raises(ValidationError, match="shorter than 32 bytes"):
        HiringSettings()


def test_production_starts_with_a_secret_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BONUS_ENVIRONMENT", "production")
    monkeypatch.setenv("BONUS_AUTH_SECRET", OWN_SECRET)

    settings = BonusSettings()

    assert settings.tokens().secret == OWN_SECRET
    assert OWN_SECRET not in repr(settings)


@pytest.mark.parametrize("service", SERVICES)
def test_serve_prints_the_refusal_and_exits_2(service: str) -> None:
    result = runner.invoke(
        app, ["serve", service], env={f"{service.upper()}_ENVIRONMENT": "production"}
    )

    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"{service}: invalid settings" in output
    assert "development secret is public and refused in production" in output
    assert DEVELOPMENT_SECRET not in output


def test_run_hands_every_service_one_secret_and_environment() -> None:
    deployment = Deployment(environment="production", auth_secret=OWN_SECRET)

    for service in SERVICES:
        env = deployment.env_for(service)
        prefix = service.upper()
        assert env[f"{prefix}_AUTH_SECRET"] == OWN_SECRET
        assert env[f"{prefix}_ENVIRONMENT"] == "production"
    assert OWN_SECRET not in repr(deployment)


def test_run_refuses_the_development_secret_in_production() -> None:
    result = runner.invoke(app, ["run"], env={"TEACHER_HIRING_ENVIRONMENT": "production"})

    assert result.exit_code == 2
    assert "set TEACHER_HIRING_AUTH_SECRET" in " ".join(result.output.split())


def test_token_prints_a_token_the_services_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OWN_SECRET)
    monkeypatch.setenv("HIRING_AUTH_SECRET", OWN_SECRET)

    result = runner.invoke(app, ["token", "manager", "m-7", "--ttl", "600"])

    assert result.exit_code == 0, result.output
    claims = HiringSettings().tokens().verify(result.stdout.strip())
    assert (claims.role, claims.subject) == (Role.manager, "m-7")
    assert claims.expires_at - claims.issued_at == 600


def test_an_operator_token_names_the_role_by_default() -> None:
    result = runner.invoke(app, ["token", "operator"])

    assert result.exit_code == 0, result.output
    claims = PlatformAuthSettings().tokens().verify(result.stdout.strip())
    assert (claims.role, claims.subject) == (Role.operator, "operator")
    assert claims.expires_at - claims.issued_at == 8 * 3600


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["candidate"], "subject: a candidate's token names the candidate"),
        (["manager", "  "], "subject: between 1 and 200 characters"),
        (["admin"], "admin"),
        (["operator", "--ttl", "0"], "--ttl"),
    ],
)
def test_token_refuses_bad_input_with_exit_2(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["token", *args])

    assert result.exit_code == 2
    assert message in result.output
    assert not result.stdout.startswith("ey")


def test_a_token_minted_under_another_secret_is_not_the_platforms() -> None:
    other = runner.invoke(
        app, ["token", "operator"], env={"TEACHER_HIRING_AUTH_SECRET": OWN_SECRET}
    )

    assert other.exit_code == 0
    assert Tokens(OWN_SECRET).verify(other.stdout.strip()).role is Role.operator
    with pytest.raises(InvalidToken, match="bad signature"):
        PlatformAuthSettings().tokens().verify(other.stdout.strip())
