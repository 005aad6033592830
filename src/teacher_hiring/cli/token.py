"""`teacher-hiring token`: a bearer token minted with the platform's secret (docs/security.md).

For operators (an operator's token for curl or the OpenAPI page), for trying a route as a
given candidate or manager, and for the README's tour. It signs with the secret the services
verify with: TEACHER_HIRING_AUTH_SECRET (or _FILE) when set, else the secret `teacher-hiring
run` made in its data folder, as it hands it to every service.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import httpx
import typer
from pydantic import ValidationError
from rich.console import Console
from typer.core import TyperGroup

from teacher_hiring.runtime.auth_settings import (
    DEFAULT_DATA_DIR,
    PlatformAuthSettings,
    SecretFileError,
    platform_settings,
)
from teacher_hiring.runtime.settings import DEFAULT_URLS
from teacher_hiring.runtime.tokens import DEFAULT_TTL_S, SERVICE_NAMES, Role

err = Console(stderr=True)
out = Console()

NAMED_BY_ID = (Role.candidate, Role.manager)
REVOCABLE = (Role.candidate, Role.manager, Role.operator)


class MintByDefault(TyperGroup):
    """`token ROLE ...` mints (as `token mint ROLE ...`); `token revoke ...` revokes."""

    def resolve_command(self, ctx: Any, args: list[str]) -> Any:  # typer's own click types
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["mint", *args]
        return super().resolve_command(ctx, args)


app = typer.Typer(
    cls=MintByDefault,
    help="Mint a bearer token (`token ROLE [SUBJECT]`, the same as `token mint ...`), or revoke "
    "a person's tokens on every service (`token revoke ROLE ID`).",
    no_args_is_help=True,
)


def platform_auth(data_dir: Path | None = None, *, create: bool = False) -> PlatformAuthSettings:
    """The platform's keys (`platform_settings`), or a message saying how to set them, exit 2."""
    try:
        return platform_settings(data_dir, create=create)
    except ValidationError as exc:
        for error in exc.errors():
            err.print(str(error["msg"]).removeprefix("Value error, "), style="red", markup=False)
        raise typer.Exit(2) from exc
    except SecretFileError as exc:
        err.print(str(exc), style="red", markup=False)
        raise typer.Exit(2) from exc


@app.command("mint")
def token(
    role: Annotated[Role, typer.Argument(help="Whom the token lets in", show_default=False)],
    subject: Annotated[
        str | None,
        typer.Argument(
            help="The candidate's or manager's id (required for those roles); an operator's "
            "or service's name (default: the role)",
            show_default=False,
        ),
    ] = None,
    ttl: Annotated[
        float | None,
        typer.Option(
            min=1,
            help="Lifetime in seconds (default: 15 minutes for candidate and manager, 8 hours for "
            "operator, 1 hour for service)",
            show_default=False,
        ),
    ] = None,
    audience: Annotated[
        list[str] | None,
        typer.Option(
            "--audience",
            help="A service the token is for (repeat for several; default: every service)",
            show_default=False,
        ),
    ] = None,
    data_dir: Annotated[
        Path,
        typer.Option(help="The data folder of `teacher-hiring run`, whose secret file to use"),
    ] = DEFAULT_DATA_DIR,
) -> None:
    """Print a bearer token for ROLE, signed with TEACHER_HIRING_AUTH_SECRET (or _FILE), else
    with the secret `teacher-hiring run` keeps in its data folder.

    Use it as `curl -H "Authorization: Bearer $(teacher-hiring token operator)" ...`.
    """
    if subject is None:
        if role in NAMED_BY_ID:
            err.print(f"subject: a {role}'s token names the {role} (their id)", style="red")
            raise typer.Exit(2)
        subject = role.value
    if not subject.strip() or len(subject) > 200:
        err.print("subject: between 1 and 200 characters, not only spaces", style="red")
        raise typer.Exit(2)
    for name in audience or ():
        if name not in SERVICE_NAMES:
            err.print(f"audience: {name!r} is no service ({', '.join(SERVICE_NAMES)})", style="red")
            raise typer.Exit(2)
    tokens = platform_auth(data_dir).tokens()
    minted = tokens.mint(
        role, subject, ttl or DEFAULT_TTL_S[role], audience=audience or SERVICE_NAMES
    )
    typer.echo(minted)


@app.command("revoke")
def revoke(
    role: Annotated[
        Role, typer.Argument(help="candidate, manager or operator", show_default=False)
    ],
    subject: Annotated[
        str,
        typer.Argument(
            help="The candidate's or manager's id, the operator's name", show_default=False
        ),
    ],
    exercises_url: Annotated[str, typer.Option(help="Base URL of exercises")] = DEFAULT_URLS[
        "exercises"
    ],
    hiring_url: Annotated[str, typer.Option(help="Base URL of hiring")] = DEFAULT_URLS["hiring"],
    bonus_url: Annotated[str, typer.Option(help="Base URL of bonus")] = DEFAULT_URLS["bonus"],
) -> None:
    """Refuse every token of ROLE SUBJECT minted until now, on every service (docs/security.md).

    Each service is told in turn; one that cannot be reached is named, and the command exits 1:
    run it again once the service is back (revoking twice is harmless).
    """
    if role not in REVOCABLE:
        err.print("role: a service's tokens are not revoked; rotate the key instead", style="red")
        raise typer.Exit(2)
    from teacher_hiring.cli.operator_client import auth

    urls = {"exercises": exercises_url, "hiring": hiring_url, "bonus": bonus_url}
    body = {"role": role.value, "subject": subject}
    failed = []
    for service, url in urls.items():
        target = url.rstrip("/") + "/operator/revocations"
        try:
            response = httpx.post(target, json=body, auth=auth(), timeout=5.0)
        except httpx.HTTPError as exc:
            err.print(f"{service}: not reached ({exc}); run the command again", style="red")
            failed.append(service)
            continue
        if response.status_code != 200:
            err.print(f"{service}: HTTP {response.status_code}: {response.text}", style="red")
            failed.append(service)
            continue
        out.print(f"{service}: {role.value} {subject}'s tokens minted until now are refused")
    if failed:
        raise typer.Exit(1)
