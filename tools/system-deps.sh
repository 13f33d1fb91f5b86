#!/bin/sh
# Installs the Debian packages the tests need: bubblewrap (sandboxed grading),
# chromium (browser tests), and for the course's JupyterHub (make hub, tests/hub) nodejs
# and npm (its HTTP proxy) and python3-venv (the users' environment, built from Debian's
# python3, which every account can run), and redis-server (grading across machines).
# Needs root; elsewhere it says what to install by hand.
set -e
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"
/usr/bin/python3 -c "import ensurepip, venv" >/dev/null 2>&1 || missing="$missing python3-venv"
command -v redis-server >/dev/null 2>&1 || missing="$missing redis-server"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "system-deps: please install:$missing (the tests that need them will be skipped)" >&2
    exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
