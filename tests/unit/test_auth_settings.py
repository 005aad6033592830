"""The secret in the settings: required everywhere (no default), from a variable or a file only
its owner may read, too short refused; `teacher-hiring run` makes one in its data folder and
shares it with every service; keys to accept besides it; what `teacher-hiring token` signs with.
"""

from __future__ import annotations

import json
import os
import re
import stat
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from teacher_hiring.bonus.settings import BonusSettings
from teacher_hiring.cli import app
from teacher_hiring.exercises.settings import ExercisesSettings
from teacher_hiring.hiring.settings import HiringSettings
from teacher_hiring.runtime.auth_settings import (
    SECRET_FILE_NAME,
    PlatformAuthSettings,
    SecretFileError,
    ensure_secret_file,
    platform_settings,
)
from teacher_hiring.runtime.processes import SERVICES, Deployment, accepted_keys_json
from teacher_hiring.runtime.settings import ServiceSettings
from teacher_hiring.runtime.tokens import InvalidToken, Role, Tokens
from teacher_hiring.web.settings import WebSettings

runner = CliRunner()
OWN_SECRET = "a-production-secret-of-at-least-32-bytes"
OLD_SECRET = "the-previous-secret-of-at-least-32-bytes"
SETTINGS: dict[str, type[ServiceSettings]] = {
    "exercises": ExercisesSettings,
    "hiring": HiringSettings,
    "bonus": BonusSettings,
}
PREFIXES = ("EXERCISES_", "HIRING_", "BONUS_", "WEB_", "TEACHER_HIRING_")


@pytest.fixture(autouse=True)
def _no_inherited_auth_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for prefix in PREFIXES:
        for name in ("ENVIRONMENT", "AUTH_SECRET", "AUTH_SECRET_FILE", "AUTH_ACCEPTED_KEYS"):
            monkeypatch.delenv(prefix + name, raising=False)
    monkeypatch.chdir(tmp_path)  # no var/auth-secret of an earlier run in reach


def secret_file(folder: Path, secret: str = OWN_SECRET, mode: int = 0o600) -> Path:
    path = folder / "secret"
    path.write_text(secret + "\n")
    path.chmod(mode)
    return path


@pytest.mark.parametrize("environment", ["development", "production"])
@pytest.mark.parametrize("service", SERVICES)
def test_a_service_without_a_secret_refuses_to_start_saying_how_to_set_one(
    service: str, environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(f"{service.upper()}_ENVIRONMENT", environment)
    prefix = service.upper()

    with pytest.raises(ValidationError) as refused:
        SETTINGS[service]()

    message = str(refused.value)
    assert f"set {prefix}_AUTH_SECRET " in message and f"{prefix}_AUTH_SECRET_FILE" in message


def test_the_web_process_without_a_secret_refuses_to_start() -> None:
    with pytest.raises(ValidationError, match=r"set WEB_AUTH_SECRET .* or WEB_AUTH_SECRET_FILE"):
        WebSettings()


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_secret_shorter_than_32_bytes_is_refused(
    environment: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HIRING_ENVIRONMENT", environment)
    monkeypatch.setenv("HIRING_AUTH_SECRET", "x" * 31)

    with pytest.raises(ValidationError, match="shorter than 32 bytes"):
        HiringSettings()


def test_a_service_starts_with_a_secret_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BONUS_ENVIRONMENT", "production")
    monkeypatch.setenv("BONUS_AUTH_SECRET", OWN_SECRET)

    settings = BonusSettings()

    assert settings.tokens().secret == OWN_SECRET
    assert settings.tokens().audience == "bonus"
    assert OWN_SECRET not in repr(settings)


def test_a_secret_file_readable_by_its_owner_only_is_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HIRING_AUTH_SECRET_FILE", str(secret_file(tmp_path)))

    assert HiringSettings().tokens().secret == OWN_SECRET


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_secret_file_others_may_read_is_refused(
    mode: int, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = secret_file(tmp_path, mode=mode)
    monkeypatch.setenv("HIRING_AUTH_SECRET_FILE", str(path))

    with pytest.raises(
        ValidationError, match=f"mode {mode:04o} .*{re.escape(f'chmod 600 {path}')}"
    ):
        HiringSettings()


def test_a_secret_and_a_secret_file_together_are_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("HIRING_AUTH_SECRET", OWN_SECRET)
    monkeypatch.setenv("HIRING_AUTH_SECRET_FILE", str(secret_file(tmp_path)))

    with pytest.raises(ValidationError, match="not both"):
        HiringSettings()


@pytest.mark.parametrize("service", SERVICES)
def test_serve_without_a_secret_prints_how_to_set_one_and_exits_2(service: str) -> None:
    result = runner.invoke(app, ["serve", service])

    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert f"{service}: invalid settings" in output
    assert f"set {service.upper()}_AUTH_SECRET" in output
    assert f"{service.upper()}_AUTH_SECRET_FILE" in output


def test_run_makes_a_random_secret_of_mode_0600_on_first_start_and_reuses_it(
    tmp_path: Path,
) -> None:
    first = platform_settings(tmp_path / "var", create=True)
    path = tmp_path / "var" / SECRET_FILE_NAME

    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert first.secret == path.read_text().strip() and len(first.secret) >= 32
    assert platform_settings(tmp_path / "var", create=True).secret == first.secret
    assert platform_settings(tmp_path / "var").secret == first.secret  # the token command's
    other = platform_settings(tmp_path / "elsewhere", create=True)
    assert other.secret != first.secret  # random, not a constant


def test_run_refuses_a_secret_file_others_may_read(tmp_path: Path) -> None:
    folder = tmp_path / "var"
    ensure_secret_file(folder / SECRET_FILE_NAME)
    (folder / SECRET_FILE_NAME).chmod(0o644)

    with pytest.raises(SecretFileError, match="chmod 600"):
        platform_settings(folder, create=True)
    result = runner.invoke(app, ["run", "--data-dir", str(folder)])
    assert result.exit_code == 2
    assert "chmod 600" in " ".join(result.output.split())


def test_run_prefers_the_configured_secret_to_the_data_folders(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OWN_SECRET)

    assert platform_settings(tmp_path, create=True).secret == OWN_SECRET
    assert not (tmp_path / SECRET_FILE_NAME).exists()


def test_run_hands_every_process_one_secret_and_the_accepted_keys() -> None:
    until = datetime(2030, 1, 1, tzinfo=UTC)
    keys = PlatformAuthSettings(
        auth_secret=OWN_SECRET, auth_accepted_keys=[{"secret": OLD_SECRET, "until": until}]
    )
    deployment = Deployment(
        ports={"web": 8700, "exercises": 8701, "hiring": 8702, "bonus": 8703},
        environment="production",
        auth_secret=OWN_SECRET,
        auth_accepted_keys=accepted_keys_json(keys),
    )

    for service in (*SERVICES, "web"):
        env = deployment.env_for(service)
        prefix = service.upper()
        assert env[f"{prefix}_AUTH_SECRET"] == OWN_SECRET
        assert env[f"{prefix}_ENVIRONMENT"] == "production"
        accepted = json.loads(env[f"{prefix}_AUTH_ACCEPTED_KEYS"])
        assert accepted == [{"secret": OLD_SECRET, "until": until.isoformat()}]
    assert OWN_SECRET not in repr(deployment) and OLD_SECRET not in repr(deployment)


def test_a_deployment_without_a_secret_gets_a_random_one_of_its_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    one, other = Deployment(), Deployment()

    assert one.auth_secret != other.auth_secret and len(one.auth_secret) >= 32


def test_a_service_accepts_the_previous_key_until_the_time_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    until = time.time() + 600
    accepted = [{"secret": OLD_SECRET, "until": datetime.fromtimestamp(until, UTC).isoformat()}]
    monkeypatch.setenv("HIRING_AUTH_SECRET", OWN_SECRET)
    monkeypatch.setenv("HIRING_AUTH_ACCEPTED_KEYS", json.dumps(accepted))
    old_token = Tokens(OLD_SECRET).mint(Role.candidate, "c-1", 3600)

    verifier = HiringSettings().tokens()

    assert verifier.verify(old_token).subject == "c-1"
    assert (
        verifier.verify(verifier.mint(Role.candidate, "c-1", 60)).key_id == Tokens(OWN_SECRET).kid
    )
    monkeypatch.setattr("teacher_hiring.runtime.tokens.time.time", lambda: until + 1)
    with pytest.raises(InvalidToken, match="retired key"):
        verifier.verify(old_token)


def test_an_accepted_key_shorter_than_32_bytes_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HIRING_AUTH_SECRET", OWN_SECRET)
    monkeypatch.setenv("HIRING_AUTH_ACCEPTED_KEYS", json.dumps([{"secret": "short"}]))

    with pytest.raises(ValidationError, match="auth_accepted_keys: a key is shorter"):
        HiringSettings()


def test_token_without_a_secret_says_how_to_set_one_and_exits_2() -> None:
    result = runner.invoke(app, ["token", "operator"])

    assert result.exit_code == 2
    output = " ".join(result.output.split())
    assert (
        "set TEACHER_HIRING_AUTH_SECRET" in output and "TEACHER_HIRING_AUTH_SECRET_FILE" in output
    )
    assert not result.stdout.startswith("ey")


def test_token_signs_with_the_secret_run_made_in_its_data_folder(tmp_path: Path) -> None:
    secret = ensure_secret_file(tmp_path / "var" / SECRET_FILE_NAME)

    result = runner.invoke(app, ["token", "operator", "--data-dir", str(tmp_path / "var")])

    assert result.exit_code == 0, result.output
    assert Tokens(secret, audience="bonus").verify(result.stdout.strip()).role is Role.operator


def test_token_prints_a_token_the_services_accept(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OWN_SECRET)
    monkeypatch.setenv("HIRING_AUTH_SECRET", OWN_SECRET)

    result = runner.invoke(app, ["token", "manager", "m-7", "--ttl", "600"])

    assert result.exit_code == 0, result.output
    claims = HiringSettings().tokens().verify(result.stdout.strip())
    assert (claims.role, claims.subject) == (Role.manager, "m-7")
    assert claims.expires_at - claims.issued_at == 600


def test_token_for_one_audience_is_refused_by_the_others(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OWN_SECRET)

    result = runner.invoke(app, ["token", "operator", "--audience", "hiring"])

    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert Tokens(OWN_SECRET, audience="hiring").verify(token).audience == ("hiring",)
    with pytest.raises(InvalidToken, match="not for this service"):
        Tokens(OWN_SECRET, audience="bonus").verify(token)


def test_an_operator_token_names_the_role_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OWN_SECRET)

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
        (["operator", "--audience", "payroll"], "audience: 'payroll' is no service"),
    ],
)
def test_token_refuses_bad_input_with_exit_2(
    args: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OWN_SECRET)

    result = runner.invoke(app, ["token", *args])

    assert result.exit_code == 2
    assert message in result.output
    assert not result.stdout.startswith("ey")


def test_a_token_minted_under_another_secret_is_not_the_platforms(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEACHER_HIRING_AUTH_SECRET", OLD_SECRET)
    other = runner.invoke(
        app, ["token", "operator"], env={"TEACHER_HIRING_AUTH_SECRET": OWN_SECRET}
    )

    assert other.exit_code == 0
    assert Tokens(OWN_SECRET).verify(other.stdout.strip()).role is Role.operator
    with pytest.raises(InvalidToken, match="does not accept"):
        PlatformAuthSettings().tokens().verify(other.stdout.strip())


def test_no_secret_is_written_in_the_package() -> None:
    """No module holds a secret to fall back on: each start needs one given to it."""
    package = Path(__file__).resolve().parents[2] / "src" / "teacher_hiring"
    found = [
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if "DEVELOPMENT_SECRET" in path.read_text() or "-secret-not-for-" in path.read_text()
    ]

    assert found == []
    assert os.environ.get("TEACHER_HIRING_AUTH_SECRET") is None  # the fixture's doing
