#!/usr/bin/env bash
# Runs every test: unit, property and integration tests of the workspace, the
# core's build for the browser, and the end-to-end specs in headless Chromium.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" --test

say "unit and integration tests (on SQLite)"
env -u CROSSDOCK_TEST_DATABASE_URL cargo test --workspace

# With a PostgreSQL server named, the integration suite runs again on it,
# each test in a schema of its own.
if [ -n "${CROSSDOCK_TEST_DATABASE_URL:-}" ]; then
  say "integration tests on PostgreSQL"
  cargo test -p crossdock-server --test api
fi

say "the core builds for wasm32-unknown-unknown"
cargo build -p crossdock --lib --target wasm32-unknown-unknown

# The end-to-end specs run the server binary the tests above just built.
"$ROOT/scripts/build.sh" --site
mkdir -p "$ROOT/target/bin"
ln -sf "$TARGET_DIR/debug/crossdock" "$ROOT/target/bin/crossdock"

say "end-to-end tests in headless Chromium (on SQLite)"
cd "$ROOT/end2end"
npx playwright test
if [ -n "${CROSSDOCK_TEST_DATABASE_URL:-}" ]; then
  say "end-to-end tests on PostgreSQL"
  CROSSDOCK_E2E_DATABASE_URL="$CROSSDOCK_TEST_DATABASE_URL" npx playwright test
fi

say "outside clients (CloudEvents SDK, Standard Webhooks), the OpenAPI contract (schemathesis), crash durability"
CROSSDOCK_BIN="$ROOT/target/bin/crossdock" "$ROOT/end2end/outside/run.sh"

say "fuzzing the event parser, binary headers and signature headers (short run)"
"$ROOT/fuzz/run.sh"
