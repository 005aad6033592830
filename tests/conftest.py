"""What holds for every test of the session."""

import os

# The tests read the CLI's tables as text. A rich console takes its width from COLUMNS when it
# is created, at import, and pytest-xdist's workers set 80: cells then wrap inside the names
# the tests look for. One wide console for the whole session, however the tests are run.
os.environ["COLUMNS"] = "200"
