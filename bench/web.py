"""`make bench-web`: a candidate's answer through the web pages against the same answer sent
straight to hiring, in one run on one platform (the embedded defaults).

The platform (web pages and the three services) starts on fresh data; a manager writes three
exercises; two pools of candidates register, one through the pages (a session cookie each),
one with hiring directly (a bearer token each). Then, each a few seconds unmeasured first:

  hiring   --rate answers/s, open loop, for --seconds: POST /candidates/{id}/submissions
  web      the same rate: the answer form posted to the pages, which check the session and its
           CSRF token, read the exercise from hiring, send the answer to hiring and render the
           verdict page

Every answer is a wrong one (each candidate has 3 exercises x 5 attempts), so both measure the
same work in hiring. Latency is counted from when a request was due (bench/lib/load.py).
Beside latency, each measured phase reports the CPU-seconds per answer of the process that
answered it (hiring's, then the web process's, from /proc), a figure a busy machine disturbs
less than latency. `--py-spy FILE` records the web process during its measured phase.

    .venv/bin/python -m bench.web [--rate 100] [--seconds 20] [--no-write] [--py-spy web.svg]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson

from bench.lib.cpu import cpu_of
from bench.lib.load import CONNECTIONS, PhaseResult, collector_paused, percentile, timed_post
from bench.lib.platform_under_test import UNLIMITED_REGISTRATIONS, Credentials
from teacher_hiring.foundation.ports import free_port
from teacher_hiring.runtime.processes import SERVICES, WEB, Deployment, Platform
from teacher_hiring.runtime.tokens import Role

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "web-speed.md"
EXERCISES = 3
ATTEMPTS = 5
ANSWERS_PER_CANDIDATE = EXERCISES * ATTEMPTS
WARM_UP_S = 3.0
SUBJECT = "bench"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')
CONFIRMATION = re.compile(r'id="confirmation-link" href="https?://[^/"]+(/confirm/[^"]+)"')


@dataclass(frozen=True)
class Post:
    path: str
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True)
class WebCandidate:
    id: str
    cookie: str
    csrf: str


def setup_exercises(
    hiring_ok: httpx.Client, exercises: httpx.Client, creds: Credentials
) -> list[str]:
    manager = (
        exercises.post(
            "/managers",
            json={"first_name": "Bench", "last_name": "Author", "email": "bench@school.example"},
            headers=creds.operator(),
        )
        .raise_for_status()
        .json()["id"]
    )
    ids = []
    for n in range(EXERCISES):
        body = {
            "author_id": manager,
            "title": f"Bench {n}",
            "statement": f"Statement {n}",
            "accepted_answers": ["right"],
            "subject": SUBJECT,
            "difficulty": 2,
        }
        created = exercises.post(
            "/exercises", json=body, headers=creds.headers(Role.manager, manager)
        ).raise_for_status()
        ids.append(created.json()["id"])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        known = hiring_ok.get("/exercises", headers=creds.operator()).json()["items"]
        if {e["exercise_id"] for e in known} >= set(ids):
            return ids
        time.sleep(0.1)
    raise RuntimeError("hiring did not learn of the exercises")


async def register_on_pages(base_url: str, count: int) -> list[WebCandidate]:
    """Registers `count` candidates through the pages, four at a time (argon2 is meant to be
    slow); returns each one's session cookie and CSRF token."""
    import aiohttp

    done: list[WebCandidate] = []
    todo = list(range(count))

    async def worker() -> None:
        while todo:
            n = todo.pop()
            jar = aiohttp.CookieJar(unsafe=True)
            async with aiohttp.ClientSession(base_url, cookie_jar=jar) as client:
                async with client.get("/register") as page:
                    token = CSRF.search(await page.text())
                assert token
                form = {
                    "csrf": token.group(1),
                    "name": f"Web Candidate {n}",
                    "email": f"web.{n}.{uuid.uuid4().hex[:6]}@mail.example",
                    "subject": SUBJECT,
                    "password": "bench-password",
                }
                async with client.post("/register", data=form, allow_redirects=False) as answer:
                    # the platform runs in development: the confirmation link is on the page
                    link = CONFIRMATION.search(await answer.text())
                assert link, "no confirmation link on the sign-up page"
                async with client.get(link.group(1)) as page:
                    token = CSRF.search(await page.text())
                assert token
                confirm = {"csrf": token.group(1)}
                async with client.post(link.group(1), data=confirm, allow_redirects=False) as done:
                    assert done.status == 303, await done.text()
                    candidate_id = done.headers["Location"].rsplit("/", 1)[-1]
                cookie = next(c.value for c in jar if c.key == "th_session")
                async with client.get(f"/candidates/{candidate_id}") as page:
                    token = CSRF.search(await page.text())
                assert token
                done.append(WebCandidate(candidate_id, cookie, token.group(1)))

    await asyncio.gather(*(worker() for _ in range(4)))
    return done


def register_with_hiring(hiring: httpx.Client, count: int) -> list[tuple[str, str]]:
    """(id, bearer token) of `count` candidates registered with hiring directly."""
    found = []
    for n in range(count):
        body = {
            "name": f"Api Candidate {n}",
            "email": f"api.{n}.{uuid.uuid4().hex[:6]}@mail.example",
            "subject": SUBJECT,
        }
        key = {"Idempotency-Key": uuid.uuid4().hex}  # a retried registration is answered again
        answer = hiring.post("/candidates", json=body, headers=key).raise_for_status().json()
        found.append((answer["id"], answer["access_token"]))
    return found


def web_answers(candidates: list[WebCandidate], exercise_ids: list[str]) -> list[Post]:
    """Every wrong answer the candidates can give, round-robin over the candidates."""
    posts = []
    for attempt in range(ATTEMPTS):
        for exercise in exercise_ids:
            for c in candidates:
                form = {
                    "csrf": c.csrf,
                    "answer": f"wrong {attempt}",
                    "version": "1",
                    "idempotency_key": str(uuid.uuid4()),
                }
                posts.append(
                    Post(
                        f"/candidates/{c.id}/exercises/{exercise}",
                        urllib.parse.urlencode(form).encode(),
                        {
                            "Cookie": f"th_session={c.cookie}",
                            "Content-Type": "application/x-www-form-urlencoded",
                        },
                    )
                )
    return posts


def api_answers(candidates: list[tuple[str, str]], exercise_ids: list[str]) -> list[Post]:
    posts = []
    for attempt in range(ATTEMPTS):
        for exercise in exercise_ids:
            for candidate_id, token in candidates:
                body = {
                    "exercise_id": exercise,
                    "exercise_version": 1,
                    "answer": f"wrong {attempt}",
                }
                posts.append(
                    Post(
                        f"/candidates/{candidate_id}/submissions",
                        orjson.dumps(body),
                        {"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                    )
                )
    return posts


async def _open_loop(base_url: str, work: list[Post], rate: float, name: str) -> PhaseResult:
    import aiohttp

    result = PhaseResult(name, rate)
    connector = aiohttp.TCPConnector(limit=CONNECTIONS)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(base_url, connector=connector, timeout=timeout) as client:

        async def warm() -> None:
            async with client.get("/health") as response:
                await response.read()

        await asyncio.gather(*(warm() for _ in range(CONNECTIONS)))
        started = time.perf_counter()

        async def one(due: float, post: Post) -> None:
            await timed_post(
                client,
                result,
                started,
                due,
                post.path,
                post.body,
                post.headers,
                allow_redirects=False,
            )

        with collector_paused():
            tasks = []
            for i, post in enumerate(work):
                due = started + i / rate
                delay = due - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one(due, post)))
            await asyncio.gather(*tasks)
        result.seconds = time.perf_counter() - started
    return result


def open_loop(base_url: str, work: list[Post], rate: float, name: str) -> PhaseResult:
    import uvloop

    return uvloop.run(_open_loop(base_url, work, rate, name))


@dataclass(frozen=True)
class Measured:
    """A measured phase: its answers, and the CPU-seconds the process that answered spent."""

    phase: PhaseResult
    cpu_s: float

    @property
    def cpu_ms_per_answer(self) -> float:
        return self.cpu_s * 1000 / self.phase.sent if self.phase.sent else float("nan")


def measure(pid: int, run: Callable[[], PhaseResult]) -> Measured:
    """`run`, with the CPU-seconds process `pid` spent meanwhile (user + system, /proc)."""
    before = cpu_of(pid)
    phase = run()
    after = cpu_of(pid)
    if before is None or after is None:
        raise RuntimeError(f"process {pid} is gone")
    return Measured(phase, after - before)


def py_spy(pid: int, out: Path, seconds: float) -> subprocess.Popen[bytes]:
    """py-spy recording process `pid` for `seconds` into `out` (a flame graph, or speedscope
    for a .json)."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    kind = "speedscope" if out.suffix == ".json" else "flamegraph"
    command = [exe, "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", "200"]
    return subprocess.Popen([*command, "--format", kind, "--output", str(out), "--nonblocking"])


def row(measured: Measured) -> str:
    phase = measured.phase
    lat = phase.latencies_ms
    statuses = ", ".join(f"{status}: {count}" for status, count in phase.statuses().items())
    return (
        f"| {phase.name} | {phase.sent:,} | {phase.sent / phase.seconds:.0f} | "
        f"{percentile(lat, 50):.1f} | {percentile(lat, 95):.1f} | {percentile(lat, 99):.1f} | "
        f"{measured.cpu_ms_per_answer:.2f} | {phase.errors} | {statuses} |"
    )


def report(phases: list[Measured], rate: float, seconds: float) -> str:
    direct, web = phases
    ratio = percentile(web.phase.latencies_ms, 99) / percentile(direct.phase.latencies_ms, 99)
    cpu_ratio = web.cpu_ms_per_answer / direct.cpu_ms_per_answer
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return "\n".join(
        [
            "# A candidate's answer through the web pages",
            "",
            f"Written by `make bench-web` ({' '.join(sys.argv[1:]) or 'defaults'}) on {when}:",
            f"{rate:.0f} answers/s for {seconds:.0f} s, open loop, each phase after "
            f"{WARM_UP_S:.0f} s unmeasured, on one platform (the embedded defaults) on this",
            "machine.",
            "`hiring` sends the answer straight to hiring's API with the candidate's token; `web`",
            "posts the answer form to the pages with the candidate's session cookie, which check",
            "the session and its CSRF token, read the exercise from hiring, send the answer and",
            "render the verdict page (bench/web.py). CPU is the CPU-seconds per answer of the",
            "process that answered: hiring's in the first phase, the web process's in the second.",
            "",
            "| path | answers | per s | p50 ms | p95 ms | p99 ms | CPU ms/answer | errors "
            "| statuses |",
            "|---|---|---|---|---|---|---|---|---|",
            row(direct),
            row(web),
            "",
            f"p99 through the pages over p99 straight to hiring: **{ratio:.2f}**; the web "
            f"process's CPU per answer over hiring's: **{cpu_ratio:.2f}**.",
            "",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--no-write", action="store_true", help="print, do not write the doc")
    parser.add_argument(
        "--py-spy", type=Path, help="record the web process's measured phase into this file"
    )
    args = parser.parse_args()
    per_phase = int(args.rate * (args.seconds + WARM_UP_S))
    pool = per_phase // ANSWERS_PER_CANDIDATE + 1
    creds = Credentials()
    with tempfile.TemporaryDirectory(prefix="th-bench-web-") as tmp:
        deployment = Deployment(
            data_dir=Path(tmp) / "var",
            ports={WEB: free_port(), **{name: free_port() for name in SERVICES}},
            partitions=3,
            extra_env=UNLIMITED_REGISTRATIONS,
        )
        platform = Platform(deployment)
        try:
            platform.start()
            hiring = httpx.Client(base_url=deployment.url("hiring"), timeout=30)
            exercises = httpx.Client(base_url=deployment.url("exercises"), timeout=30)
            exercise_ids = setup_exercises(hiring, exercises, creds)
            print(f"registering {pool} candidates through the pages, {pool} with hiring...")
            on_pages = asyncio.run(register_on_pages(deployment.url(WEB), pool))
            with_api = register_with_hiring(hiring, pool)
            phases = []
            for name, work in (
                ("hiring", api_answers(with_api, exercise_ids)),
                (WEB, web_answers(on_pages, exercise_ids)),
            ):
                url, pid = deployment.url(name), platform[name].pid
                warm = int(args.rate * WARM_UP_S)
                open_loop(url, work[:warm], args.rate, f"{name}, warm-up")
                todo = work[warm : warm + int(args.rate * args.seconds)]
                spy = (
                    py_spy(pid, args.py_spy, args.seconds) if args.py_spy and name == WEB else None
                )
                measured = measure(pid, lambda: open_loop(url, todo, args.rate, name))  # noqa: B023
                if spy is not None:
                    spy.wait()
                print(row(measured), flush=True)
                phases.append(measured)
        finally:
            platform.stop()
    text = report(phases, args.rate, args.seconds)
    print(text)
    if not args.no_write:
        DOC.write_text(text)
        print(f"wrote {DOC.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
