#!/usr/bin/env bash
# Runs the outside tests (see conftest.py) against the built binary
# ($CROSSDOCK_BIN, default target/bin/crossdock). The virtualenv in
# target/venv is made, or brought up to requirements.txt, first.
# Arguments go to pytest: end2end/outside/run.sh test_clients.py -k signature
source "$(dirname "$0")/../../scripts/common.sh"
HERE="$ROOT/end2end/outside"
VENV="$ROOT/target/venv"
STAMP="$VENV/.outside-requirements"

# The example sender runs in the same environment, so its own pins are
# installed too: a pin that does not install fails here.
WANTED="$(cat "$HERE/requirements.txt" "$ROOT/examples/python/requirements.txt")"
if [ "$WANTED" != "$(cat "$STAMP" 2>/dev/null)" ] || [ ! -x "$VENV/bin/python" ]; then
  say "python packages of the outside tests and the example sender"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    -r "$HERE/requirements.txt" -r "$ROOT/examples/python/requirements.txt"
  printf '%s' "$WANTED" > "$STAMP"
fi

# pytest runs from here; a binary named relative to the caller stays found.
if [ -n "${CROSSDOCK_BIN:-}" ]; then export CROSSDOCK_BIN="$(realpath -s "$CROSSDOCK_BIN")"; fi
cd "$HERE"
export PYTHONDONTWRITEBYTECODE=1
exec "$VENV/bin/python" -m pytest -q "$@"
