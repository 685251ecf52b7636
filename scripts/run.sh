#!/usr/bin/env bash
# Builds and serves the console on its embedded default: SQLite in data/, with
# demo data when the database is new.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$@"
export CROSSDOCK_SITE_ROOT="$SITE_ROOT"
"$ROOT/target/bin/crossdock" seed-demo
# The demo connectors replay to a stand-in carrier, ERP and WMS beside the
# console; it stops with it.
"$ROOT/target/bin/crossdock" demo-target &
target_pid=$!
trap 'kill "$target_pid" 2>/dev/null || true' EXIT INT TERM
say "serving the console on http://${CROSSDOCK_BIND:-127.0.0.1:3000} (demo replay target on 127.0.0.1:3900)"
"$ROOT/target/bin/crossdock" serve
