"""`make screenshots`: each main page at desktop and phone width, into docs/screenshots/.

Starts a platform of its own (the web pages and the three services, in a temporary folder),
fills it with a little data through the services' APIs and the pages, and photographs every
page of SHOTS as docs/screenshots/<name>-desktop.png and <name>-phone.png. Add a page by
adding a Shot: who looks at it (a signed-in candidate, manager or operator, or nobody) and
its path, given the Scene of the data created.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "src")]
# The platform it starts and the tokens it mints share one secret, made for this run.
os.environ.setdefault("TEACHER_HIRING_AUTH_SECRET", secrets.token_urlsafe(48))

from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402

from browser.browser_support import (  # noqa: E402
    CHROMIUM_FLAGS,
    DESKTOP,
    PHONE,
    Site,
    chromium_path,
    register,
    sign_in,
    start_platform,
)
from e2e.platform_api import eventually  # noqa: E402
from e2e.test_dead_letters import send_poison  # noqa: E402
from teacher_hiring.runtime.db import dispose, make_engine  # noqa: E402
from teacher_hiring.runtime.tokens import Role  # noqa: E402
from teacher_hiring.web.accounts.store import Accounts  # noqa: E402

OUT = ROOT / "docs" / "screenshots"
MANAGER_EMAIL = "maria.ivanova@school.example"
PASSWORD = "screenshots-password"


@dataclass
class Scene:
    """What the screenshots show: the people and exercises created for them."""

    site: Site
    manager_id: str = ""
    exercise_ids: list[str] = field(default_factory=list)
    candidate: dict[str, str] = field(default_factory=dict)
    operator_email: str = ""
    confirm_path: str = ""
    """A sign-up's confirmation page, its link not followed yet."""


@dataclass(frozen=True)
class Shot:
    name: str
    role: str | None
    """Who is signed in: candidate, manager, operator, or None (nobody)."""
    path: Callable[[Scene], str]


SHOTS = [
    Shot("welcome", None, lambda s: "/"),
    Shot("sign-in", None, lambda s: "/sign-in"),
    Shot("register", None, lambda s: "/register"),
    Shot("register-confirm", None, lambda s: s.confirm_path),
    Shot("candidate-exercises", "candidate", lambda s: f"/candidates/{s.candidate['id']}"),
    Shot(
        "candidate-exercise",
        "candidate",
        lambda s: f"/candidates/{s.candidate['id']}/exercises/{s.exercise_ids[1]}",
    ),
    Shot("candidate-history", "candidate", lambda s: f"/candidates/{s.candidate['id']}/history"),
    Shot("manager-exercises", "manager", lambda s: "/manager"),
    Shot("manager-assignments", "manager", lambda s: "/manager/assignments"),
    Shot("manager-exercise-new", "manager", lambda s: "/manager/exercises/new"),
    Shot("manager-exercise-edit", "manager", lambda s: f"/manager/exercises/{s.exercise_ids[2]}"),
    Shot("manager-account", "manager", lambda s: "/manager/account"),
    Shot("manager-candidates", "manager", lambda s: "/manager/candidates"),
    Shot("operator-live", "operator", lambda s: "/operator"),
    Shot("operator-managers", "operator", lambda s: "/operator/managers"),
    Shot("operator-manager-edit", "operator", lambda s: f"/operator/managers/{s.manager_id}"),
    Shot("operator-erase", "operator", lambda s: "/operator/erase"),
    Shot("operator-payment-reviews", "operator", lambda s: "/operator/payment-reviews"),
    Shot("operator-dead-letters", "operator", lambda s: "/operator/dead-letters"),
    Shot("operator-reconciliation", "operator", lambda s: "/operator/reconciliation"),
    Shot("operator-switches", "operator", lambda s: "/operator/switches"),
]


def build_scene(site: Site, page: Page, data_dir: Path) -> Scene:
    scene = Scene(site)
    api = site.api
    scene.manager_id = api.manager("Maria Ivanova", team="Mathematics")
    titles = ("Sum of two fractions", "Area of a circle", "Prime factors")
    answers = ("5/6", "12.57", "2 2 3")
    for title, answer in zip(titles, answers, strict=True):
        scene.exercise_ids.append(
            api.exercise(scene.manager_id, answer, title, subject="mathematics")
        )
    api.hiring_knows(scene.exercise_ids)
    scene.candidate = register(
        page, site, "Irina Petrova", subject="mathematics", password=PASSWORD
    )
    # One wrong answer and one right, so the pages have something to show.
    page.goto(
        site.page_url(f"/candidates/{scene.candidate['id']}/exercises/{scene.exercise_ids[0]}")
    )
    page.get_by_label("Answer").fill("1/2")
    page.get_by_role("button", name="Send the answer").click()
    page.get_by_label("Answer").fill("5/6")
    page.get_by_role("button", name="Send the answer").click()
    page.context.clear_cookies()
    scene.confirm_path = pending_sign_up(page, site)
    staff_scene(scene)
    scene.operator_email = f"operator.{uuid.uuid4().hex[:6]}@school.example"
    subprocess.run(
        [
            *(sys.executable, "-m", "teacher_hiring.cli", "operator", "create"),
            *("--email", scene.operator_email, "--name", "Olga Operator", "--password-stdin"),
        ],
        input=PASSWORD + "\n",
        text=True,
        check=True,
        env={
            "WEB_DATABASE_URL": site.platform.deployment.database_url("web"),
            "PYTHONPATH": str(ROOT / "src"),
            "PATH": "/usr/bin:/bin",
        },
    )
    return scene


def pending_sign_up(page: Page, site: Site) -> str:
    """A sign-up whose emailed link is not followed yet: the path of its confirmation page."""
    page.goto(site.page_url("/register"))
    page.get_by_label("Full name").fill("Pavel Sidorov")
    page.get_by_label("Email").fill(f"pavel.{uuid.uuid4().hex[:6]}@mail.example")
    page.get_by_label("Subject you teach").fill("mathematics")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Register").click()
    link = page.locator("#confirmation-link")
    link.wait_for()
    href = str(link.get_attribute("href"))
    return "/" + href.split("/", 3)[3] if href.startswith("http") else href


def staff_scene(scene: Scene) -> None:
    """What the managers' and operators' pages show: the second exercise leaked and
    complicated (its assignment closed and paid), the third leaked with its assignment open,
    the manager's sign-in account, and a poison record among the dead letters."""
    api = scene.site.api
    for leaked in scene.exercise_ids[1:]:
        for n in range(11):
            solver = api.candidate(f"Solver {n} {uuid.uuid4().hex[:6]}", subject="mathematics")
            answer = "12.57" if leaked == scene.exercise_ids[1] else "2 2 3"
            assert api.submit(solver["id"], leaked, 1, answer).status_code == 200
    eventually(
        lambda: len(api.ok("GET", "exercises", "/assignments", params={"status": "open"})) == 2,
        what="two complication assignments",
    )
    body = {
        "editor_id": scene.manager_id,
        "statement": "The area of a circle of radius 2, to two decimals, without a calculator",
        "accepted_answers": ["12.57"],
        "expected_version": 1,
    }
    path = f"/exercises/{scene.exercise_ids[1]}"
    api.ok("PUT", "exercises", path, json=body, headers=api.as_manager(scene.manager_id))
    eventually(
        lambda: any(e["kind"] == "payment" for e in api.entries(scene.manager_id)),
        what="the payment in the account",
    )
    held_payment(scene)
    engine = make_engine(scene.site.platform.deployment.database_url("web"))
    try:
        Accounts(engine).create(
            email=MANAGER_EMAIL,
            role=Role.manager,
            subject_id=scene.manager_id,
            name="Maria Ivanova",
            password=PASSWORD,
        )
    finally:
        dispose(engine)
    send_poison(scene.site.platform)


def held_payment(scene: Scene) -> None:
    """A second manager's exercise leaked by eleven candidates that manager registered, then
    complicated by them: the payment waits in the operators' review queue."""
    api = scene.site.api
    boris = api.manager("Boris Smirnov", team="Physics")
    own = api.exercise(boris, "9.8", "Acceleration of a falling stone", subject="physics")
    api.hiring_knows([own])
    for n in range(11):
        body = {
            "name": f"Friend {n}",
            "email": f"friend.{n}.{uuid.uuid4().hex[:6]}@mail.example",
            "subject": "physics",
        }
        headers = {**api.as_manager(boris), "Idempotency-Key": uuid.uuid4().hex}
        solver = api.ok("POST", "hiring", "/candidates", json=body, headers=headers)
        assert api.submit(solver["id"], own, 1, "9.8").status_code == 200
    eventually(
        lambda: any(
            a["exercise_id"] == own
            for a in api.ok("GET", "exercises", "/assignments", params={"status": "open"})
        ),
        what="the assignment of Boris's exercise",
    )
    body = {
        "editor_id": boris,
        "statement": "The acceleration of a falling stone, in m/s², to one decimal",
        "accepted_answers": ["9.8"],
        "expected_version": 1,
    }
    api.ok("PUT", "exercises", f"/exercises/{own}", json=body, headers=api.as_manager(boris))
    eventually(
        lambda: bool(api.ok("GET", "exercises", "/operator/payment-reviews")),
        what="the payment held for review",
    )


def credentials(scene: Scene, role: str) -> tuple[str, str]:
    if role == "candidate":
        return scene.candidate["email"], PASSWORD
    if role == "manager":
        return MANAGER_EMAIL, PASSWORD
    if role == "operator":
        return scene.operator_email, PASSWORD
    raise ValueError(f"no {role} in the scene")


def shoot(browser: Browser, scene: Scene) -> list[Path]:
    written = []
    OUT.mkdir(parents=True, exist_ok=True)
    for role in {shot.role for shot in SHOTS}:
        context = browser.new_context(viewport=DESKTOP, timezone_id="Europe/Moscow", locale="en-GB")
        page = context.new_page()
        if role is not None:
            sign_in(page, scene.site, *credentials(scene, role))
        for shot in (s for s in SHOTS if s.role == role):
            page.goto(scene.site.page_url(shot.path(scene)))
            for size, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
                page.set_viewport_size(viewport)
                target = OUT / f"{shot.name}-{size}.png"
                page.screenshot(path=str(target), full_page=True)
                written.append(target)
            page.set_viewport_size(DESKTOP)
        context.close()
    return written


def main() -> None:
    path = chromium_path()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        data_dir = Path(tmp) / "var"
        for site in start_platform(data_dir, show_logs=False):
            browser = playwright.chromium.launch(
                executable_path=path, headless=True, args=CHROMIUM_FLAGS
            )
            try:
                setup = browser.new_context(viewport=DESKTOP)
                scene = build_scene(site, setup.new_page(), data_dir)
                setup.close()
                written = shoot(browser, scene)
            finally:
                browser.close()
    for target in sorted(written):
        print(target.relative_to(ROOT))


if __name__ == "__main__":
    main()
