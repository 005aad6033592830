"""The settings of authentication, shared by every service and by the operator's commands.

Every service of one platform signs and verifies tokens with the same secret: a token handed
out by hiring is checked by bonus without asking hiring. There is no default secret: a process
started without one refuses to start, naming the two ways to give it one, `<PREFIX>AUTH_SECRET`
or `<PREFIX>AUTH_SECRET_FILE` (a file only its owner may read). `teacher-hiring run` makes a
random secret in its data folder on first start (`ensure_secret_file`) and hands it to every
process it starts. Keys rotate without downtime through `<PREFIX>AUTH_ACCEPTED_KEYS`: the keys
accepted besides the signing one, each until its own time (docs/security.md).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, PrivateAttr, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from teacher_hiring.runtime.tokens import (
    MIN_SECRET_BYTES,
    SERVICE_NAMES,
    AcceptedKey,
    Role,
    Tokens,
    check_secret,
)

PLATFORM_PREFIX = "TEACHER_HIRING_"
SECRET_FILE_NAME = "auth-secret"
"""The file `teacher-hiring run` keeps its secret in, in its data folder."""
SECRET_FILE_MODE = 0o600


class SecretFileError(ValueError):
    """A secret file that cannot be used: missing, readable by others, or too short."""


def read_secret_file(path: Path) -> str:
    """The secret in `path`; refused if group or others may read or write it."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise SecretFileError(f"{path}: cannot be read ({exc.strerror})") from exc
    if mode & 0o077:
        raise SecretFileError(
            f"{path}: mode {mode:04o} lets others read or change the secret; "
            f"make it readable by its owner only (chmod 600 {path})"
        )
    try:
        check_secret(text)
    except ValueError as exc:
        raise SecretFileError(f"{path}: the secret is {exc}") from exc
    return text


def ensure_secret_file(path: Path) -> str:
    """The secret in `path`, made first (random, mode 0600) if there is no such file."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, SECRET_FILE_MODE)
        except FileExistsError:  # another start made it a moment ago: use theirs
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
    return read_secret_file(path)


class AcceptedKeySetting(BaseModel):
    """A key accepted besides the signing one: `{"secret": "...", "until": "2026-12-09T00:00Z"}`
    (without `until`: accepted until removed, as the next key before it signs)."""

    secret: SecretStr
    until: datetime | None = None


class AuthSettings(BaseSettings):
    """Where a process runs and the keys its tokens are signed and verified with."""

    environment: Literal["development", "production"] = Field(
        "development",
        description="Where the process runs; the secret is required in both",
    )
    auth_secret: SecretStr | None = Field(
        None,
        description=f"Signs and verifies bearer tokens (HS256, at least {MIN_SECRET_BYTES} "
        "bytes); the same for every service of one platform; no default",
    )
    auth_secret_file: Path | None = Field(
        None,
        description="A file holding the secret instead (mode 0600: readable by its owner only)",
    )
    auth_accepted_keys: list[AcceptedKeySetting] = Field(
        default_factory=list,
        description="Keys whose tokens are accepted besides the signing one, as JSON: the "
        "previous key with the time its acceptance ends, or the next one before it signs",
    )
    access_token_ttl_s: float = Field(
        15 * 60,
        gt=0,
        description="Lifetime of the access tokens this service hands out: hiring a "
        "candidate's at registration, exercises a manager's at creation, and both at a refresh",
    )
    refresh_token_ttl_s: float = Field(
        30 * 24 * 3600,
        gt=0,
        description="Lifetime of a refresh token (each exchange hands out a new one)",
    )

    _secret: str = PrivateAttr("")

    def _setting(self, name: str) -> str:
        return f"{self.model_config.get('env_prefix', '')}{name}".upper()

    @model_validator(mode="after")
    def _a_secret_of_its_own(self) -> AuthSettings:
        name, file_name = self._setting("auth_secret"), self._setting("auth_secret_file")
        if self.auth_secret is not None and self.auth_secret_file is not None:
            raise ValueError(f"auth_secret: set {name} or {file_name}, not both")
        if self.auth_secret_file is not None:
            secret = read_secret_file(self.auth_secret_file)
        elif self.auth_secret is None:
            raise ValueError(
                f"auth_secret: no secret to sign and verify tokens with; set {name} (at least "
                f"{MIN_SECRET_BYTES} bytes, the same on every process of the platform) or "
                f"{file_name} (a file of mode 0600 holding it); `teacher-hiring run` makes "
                f"one in its data folder ({SECRET_FILE_NAME})"
            )
        else:
            secret = self.auth_secret.get_secret_value()
        try:
            check_secret(secret)
        except ValueError as exc:
            raise ValueError(f"auth_secret: {exc}; set {name} to a longer secret") from exc
        for key in self.auth_accepted_keys:
            try:
                check_secret(key.secret.get_secret_value())
            except ValueError as exc:
                accepted = self._setting("auth_accepted_keys")
                raise ValueError(f"auth_accepted_keys: a key is {exc} ({accepted})") from exc
        self._secret = secret
        return self

    @property
    def secret(self) -> str:
        """The signing secret, from the variable or the file."""
        return self._secret

    def accepted_keys(self) -> tuple[AcceptedKey, ...]:
        return tuple(
            AcceptedKey(key.secret.get_secret_value(), key.until.timestamp() if key.until else None)
            for key in self.auth_accepted_keys
        )

    def audience(self) -> str | None:
        """The service these settings are for (its prefix), whose name tokens must carry."""
        name = str(self.model_config.get("env_prefix", "")).removesuffix("_").lower()
        return name if name in SERVICE_NAMES else None

    def tokens(self, not_before: Callable[[Role, str], float | None] | None = None) -> Tokens:
        """The minter and verifier of tokens under these keys (`not_before`: revocations)."""
        return Tokens(
            self.secret,
            access_ttl_s=self.access_token_ttl_s,
            accepted_keys=self.accepted_keys(),
            audience=self.audience(),
            not_before=not_before,
        )


class PlatformAuthSettings(AuthSettings):
    """What `teacher-hiring run` hands every service and what the operator's commands sign
    with: TEACHER_HIRING_AUTH_SECRET (or _FILE) and TEACHER_HIRING_AUTH_ACCEPTED_KEYS."""

    model_config = SettingsConfigDict(env_prefix=PLATFORM_PREFIX)


DEFAULT_DATA_DIR = Path("var")
"""Where `teacher-hiring run` keeps its data unless told otherwise."""


def platform_configured() -> bool:
    """Whether TEACHER_HIRING_AUTH_SECRET or TEACHER_HIRING_AUTH_SECRET_FILE is set."""
    names = {f"{PLATFORM_PREFIX}AUTH_SECRET", f"{PLATFORM_PREFIX}AUTH_SECRET_FILE"}
    return any(key.upper() in names and value for key, value in os.environ.items())


def platform_settings(
    data_dir: Path | None = None, *, create: bool = False
) -> PlatformAuthSettings:
    """The platform's keys: from TEACHER_HIRING_AUTH_SECRET (or _FILE) when set, else from the
    secret file in `data_dir`, which `create` makes on first use (`teacher-hiring run`).

    Raises ValueError (a pydantic ValidationError or SecretFileError) saying how to set one.
    """
    if platform_configured():
        return PlatformAuthSettings()
    path = (data_dir or DEFAULT_DATA_DIR) / SECRET_FILE_NAME
    if create:
        ensure_secret_file(path)
    elif not path.exists():
        raise SecretFileError(
            f"auth_secret: no secret to sign tokens with; set {PLATFORM_PREFIX}AUTH_SECRET "
            f"(the platform's secret) or {PLATFORM_PREFIX}AUTH_SECRET_FILE (a file of mode "
            f"0600 holding it), or start the platform once with `teacher-hiring run`, which "
            f"makes {path}"
        )
    return PlatformAuthSettings(auth_secret_file=path)
