#!/usr/bin/env bash
# Started by Playwright: a server on a fresh database with the demo data.
source "$(dirname "$0")/common.sh"
db_dir="$ROOT/target/e2e"
rm -rf "$db_dir" && mkdir -p "$db_dir"
if [ -n "${CROSSDOCK_E2E_DATABASE_URL:-}" ]; then
  # On PostgreSQL: a schema of the specs' own, made afresh.
  psql -q -v ON_ERROR_STOP=1 "$CROSSDOCK_E2E_DATABASE_URL" \
    -c 'DROP SCHEMA IF EXISTS crossdock_e2e CASCADE' -c 'CREATE SCHEMA crossdock_e2e' >/dev/null
  case "$CROSSDOCK_E2E_DATABASE_URL" in *\?*) joint='&' ;; *) joint='?' ;; esac
  export CROSSDOCK_DATABASE_URL="$CROSSDOCK_E2E_DATABASE_URL${joint}options=-c%20search_path%3Dcrossdock_e2e"
  export CROSSDOCK_SECRET_KEY_FILE="$db_dir/crossdock.key"
else
  export CROSSDOCK_DATABASE_URL="sqlite://$db_dir/crossdock.db"
fi
export CROSSDOCK_BIND="127.0.0.1:${CROSSDOCK_E2E_PORT:-3100}"
export CROSSDOCK_SITE_ROOT="$SITE_ROOT"
export CROSSDOCK_LOG="${CROSSDOCK_LOG:-warn}"
# Specs move the server's clock to watch SLA deadlines pass. The demo's
# escalations fire when it is seeded; no sweep fires more while a spec has
# moved the clock days ahead.
export CROSSDOCK_TEST_CLOCK=true
# Whole days the clock starts ahead (chosen by playwright.config.js, so that
# the demo's business hours run whatever day the specs do).
export CROSSDOCK_TEST_CLOCK_DAYS="${CROSSDOCK_TEST_CLOCK_DAYS:-0}"
export CROSSDOCK_ESCALATION_SWEEP_SECONDS=0
# Events also arrive from NATS JetStream (the machine's server), on a stream
# of the specs' own.
export CROSSDOCK_NATS_URL="${CROSSDOCK_NATS_URL:-nats://127.0.0.1:4222}"
export CROSSDOCK_NATS_STREAM=CROSSDOCK_E2E
export CROSSDOCK_NATS_SUBJECTS='e2e.events.>'
export CROSSDOCK_NATS_CONSUMER=crossdock-e2e
export CROSSDOCK_NATS_DEAD_LETTER_SUBJECT=e2e.dead-letter
# The demo connectors replay to a demo target of the specs' own.
target_port="${CROSSDOCK_E2E_TARGET_PORT:-3901}"
"$ROOT/target/bin/crossdock" seed-demo --replay-target "http://127.0.0.1:$target_port" >/dev/null
"$ROOT/target/bin/crossdock" demo-target --listen "127.0.0.1:$target_port" &
target_pid=$!
trap 'kill "$target_pid" 2>/dev/null || true' EXIT INT TERM
"$ROOT/target/bin/crossdock" serve
