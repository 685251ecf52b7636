#!/usr/bin/env bash
# Builds and serves the console on its embedded default: SQLite in data/, with
# demo data when the database is new.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
"$ROOT/scripts/build.sh" "$@"
export CROSSDOCK_SITE_ROOT="$SITE_ROOT"
"$ROOT/target/bin/crossdock" seed-demo
say "serving the console on http://${CROSSDOCK_BIND:-127.0.0.1:3000}"
exec "$ROOT/target/bin/crossdock" serve
