#!/usr/bin/env bash
# Debian's chromium, the browser the browser tests drive (tests/browser): install | status | path
#
# `install` is idempotent: it does nothing when the browser is there, else installs Debian's
# `chromium` package with apt-get (as root). Playwright drives it through `executable_path`,
# so no browser is downloaded by Playwright itself.
#
#   TH_CHROMIUM   the browser to use (default /usr/bin/chromium)
#
# Exit codes: 0 done (or, for status, installed); 1 not installed (status); 2 usage; 3 the
# browser is missing and could not be installed from Debian's packages.
set -euo pipefail

BROWSER="${TH_CHROMIUM:-/usr/bin/chromium}"

say() { printf 'chromium.sh: %s\n' "$*" >&2; }
die() {
    local code=$1
    shift
    say "$*"
    exit "$code"
}

installed() { [[ -x "$BROWSER" ]] && "$BROWSER" --version >/dev/null 2>&1; }

install() {
    if installed; then
        return 0
    fi
    say "chromium not found at $BROWSER: installing Debian's chromium package"
    if [[ $(id -u) -ne 0 ]]; then
        die 3 "cannot install chromium: not root (run 'apt-get install -y chromium' as root)"
    fi
    command -v apt-get >/dev/null 2>&1 ||
        die 3 "cannot install chromium: no apt-get here (install chromium yourself, or set TH_CHROMIUM)"
    export DEBIAN_FRONTEND=noninteractive
    if ! apt-get install -y --no-install-recommends chromium fonts-dejavu-core; then
        apt-get update || die 3 "Debian's packages could not be reached (apt-get update failed)"
        apt-get install -y --no-install-recommends chromium fonts-dejavu-core ||
            die 3 "Debian's packages could not be reached (apt-get install chromium failed)"
    fi
    installed || die 3 "chromium was installed but $BROWSER does not run"
}

case "${1:-}" in
install) install ;;
status)
    if installed; then "$BROWSER" --version; else
        say "not installed at $BROWSER"
        exit 1
    fi
    ;;
path) echo "$BROWSER" ;;
*)
    say "usage: $0 install | status | path"
    exit 2
    ;;
esac
