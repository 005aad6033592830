"""What holds for every test of the session."""

import os
import secrets

# The tests read the CLI's tables as text. A rich console takes its width from COLUMNS when it
# is created, at import, and pytest-xdist's workers set 80: cells then wrap inside the names
# the tests look for. One wide console for the whole session, however the tests are run.
os.environ["COLUMNS"] = "200"

# No secret is built in: the session makes one of its own, which every app, process and token
# of the tests uses (integration/credentials.py mints with it; a Deployment passes it on).
TEST_SECRET = os.environ.setdefault("TEACHER_HIRING_AUTH_SECRET", secrets.token_urlsafe(48))
for _prefix in ("EXERCISES_", "HIRING_", "BONUS_", "WEB_"):
    os.environ.setdefault(_prefix + "AUTH_SECRET", TEST_SECRET)
