#!/usr/bin/env bash
# Installs what building (and, with --test, testing) needs; skips what is there.
source "$(dirname "$0")/common.sh"

for_tests=false
[ "${1:-}" = "--test" ] && for_tests=true

command -v cargo >/dev/null || { echo "cargo is missing: install Rust with rustup first" >&2; exit 1; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# wasm-bindgen-cli must match the wasm-bindgen crate in Cargo.lock exactly.
wanted=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' "$ROOT/Cargo.lock")
have=$(wasm-bindgen --version 2>/dev/null | awk '{ print $2 }' || true)
if [ "$have" != "$wanted" ]; then
  say "installing wasm-bindgen-cli $wanted (have: ${have:-none})"
  # Not --locked: its lock file names crate versions the registry may lack.
  cargo install wasm-bindgen-cli --version "$wanted"
fi

# The splitter cuts lazily loaded routes out of the main browser bundle; its
# version must read the split points the wasm_split_helpers crate writes.
split_wanted="0.2.4"
split_have=$(cargo install --list | awk '/^wasm_split_cli_support / { sub(/^v/, "", $2); sub(/:$/, "", $2); print $2 }')
if [ "$split_have" != "$split_wanted" ] || ! command -v wasm-split-cli >/dev/null; then
  say "installing wasm-split-cli $split_wanted (have: ${split_have:-none})"
  cargo install --locked wasm_split_cli_support --version "$split_wanted" --features build-binary
fi

if $for_tests; then
  if ! command -v chromium >/dev/null; then
    say "installing Chromium from the distribution's packages (tests only)"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ] \
     || [ "$ROOT/end2end/package-lock.json" -nt "$ROOT/end2end/node_modules/.package-lock.json" ]; then
    say "installing the end-to-end test packages"
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  if [ ! -d "$ROOT/examples/node/node_modules/standardwebhooks" ] \
     || [ "$ROOT/examples/node/package-lock.json" -nt "$ROOT/examples/node/node_modules/.package-lock.json" ]; then
    say "installing the packages of the Node.js example sender"
    (cd "$ROOT/examples/node" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
