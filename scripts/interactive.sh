#!/usr/bin/env bash
# Measures how soon a signed-in clerk's first page becomes interactive, in
# Chromium: builds the release console (optimised bundle, release server),
# serves it with the demo data on a database of its own, and prints the
# figures of end2end/bench/interactive.js.
#   scripts/interactive.sh [loads] [path]
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" --test
"$ROOT/scripts/build.sh" --release
dir="$ROOT/target/interactive"
rm -rf "$dir" && mkdir -p "$dir"
export CROSSDOCK_DATABASE_URL="sqlite://$dir/crossdock.db"
export CROSSDOCK_BIND="127.0.0.1:${CROSSDOCK_INTERACTIVE_PORT:-3200}"
export CROSSDOCK_SITE_ROOT="$SITE_ROOT"
export CROSSDOCK_LOG=warn
"$ROOT/target/bin/crossdock" seed-demo >/dev/null
"$ROOT/target/bin/crossdock" serve &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT INT TERM
for _ in $(seq 1 100); do
  curl -fsS "http://$CROSSDOCK_BIND/readyz" >/dev/null 2>&1 && break
  sleep 0.2
done
curl -fsS "http://$CROSSDOCK_BIND/readyz" >/dev/null || { echo "the server did not become ready" >&2; exit 1; }
(cd "$ROOT/end2end" && node bench/interactive.js "http://$CROSSDOCK_BIND" "${1:-15}" "${2:-/}")
