#!/bin/sh
# Installs the Debian packages the tests need: bubblewrap (sandboxed grading) and
# chromium (browser tests). Needs root; elsewhere it says what to install by hand.
set -e
missing=""
command -v bwrap >/dev/null 2>&1 || missing="$missing bubblewrap"
command -v chromium >/dev/null 2>&1 || missing="$missing chromium"
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
    echo "system-deps: please install:$missing (the tests that need them will be skipped)" >&2
    exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
