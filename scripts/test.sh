#!/usr/bin/env bash
# Runs every test: unit, property and integration tests of the workspace, the
# core's build for the browser, and the end-to-end specs in headless Chromium.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh" --test

say "unit and integration tests"
cargo test --workspace

say "the core builds for wasm32-unknown-unknown"
cargo build -p crossdock --lib --target wasm32-unknown-unknown

# The end-to-end specs run the server binary the tests above just built.
"$ROOT/scripts/build.sh" --site
mkdir -p "$ROOT/target/bin"
ln -sf "$TARGET_DIR/debug/crossdock" "$ROOT/target/bin/crossdock"

say "end-to-end tests in headless Chromium"
cd "$ROOT/end2end"
npx playwright test

say "outside clients (CloudEvents SDK, Standard Webhooks), the OpenAPI contract (schemathesis), crash durability"
CROSSDOCK_BIN="$ROOT/target/bin/crossdock" "$ROOT/end2end/outside/run.sh"

say "fuzzing the event parser, binary headers and signature headers (short run)"
"$ROOT/fuzz/run.sh"
