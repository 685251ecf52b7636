#!/usr/bin/env bash
# Builds the browser bundle into target/site and the server binary.
#   scripts/build.sh            debug build (what the tests and `make run` use)
#   scripts/build.sh --release  optimised build (wasm-release profile, wasm-opt)
#   scripts/build.sh --site     the browser bundle only (the tests build the server)
source "$(dirname "$0")/common.sh"
cd "$ROOT"

release=false
site_only=false
case "${1:-}" in
  --release) release=true ;;
  --site) site_only=true ;;
esac

if $release; then
  wasm_profile=wasm-release; server_flags=(--release); server_dir=release
else
  wasm_profile=dev; server_flags=(); server_dir=debug
fi
wasm_dir=$([ "$wasm_profile" = dev ] && echo debug || echo "$wasm_profile")

say "building the browser bundle ($wasm_profile)"
cargo build -p crossdock-app --lib --target wasm32-unknown-unknown \
  --no-default-features --features hydrate --profile "$wasm_profile"

mkdir -p "$SITE_ROOT/pkg"
wasm-bindgen --target web --no-typescript --out-dir "$SITE_ROOT/pkg" --out-name "$OUTPUT_NAME" \
  "$TARGET_DIR/wasm32-unknown-unknown/$wasm_dir/crossdock_app.wasm"
# The server's hydration script fetches <name>.wasm, as cargo-leptos names it.
mv "$SITE_ROOT/pkg/${OUTPUT_NAME}_bg.wasm" "$SITE_ROOT/pkg/$OUTPUT_NAME.wasm"

if $release; then
  wasm_opt="$ROOT/end2end/node_modules/.bin/wasm-opt"
  if [ ! -x "$wasm_opt" ]; then
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  say "optimising the bundle with wasm-opt"
  "$wasm_opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
    --enable-reference-types --enable-multivalue --enable-mutable-globals \
    "$SITE_ROOT/pkg/$OUTPUT_NAME.wasm" -o "$SITE_ROOT/pkg/$OUTPUT_NAME.wasm"
fi

cp "$ROOT/style/main.css" "$SITE_ROOT/pkg/$OUTPUT_NAME.css"
cp -R "$ROOT/public/." "$SITE_ROOT/"

if $site_only; then
  exit 0
fi

say "building the server"
cargo build -p crossdock-server --bin crossdock "${server_flags[@]}"
mkdir -p "$ROOT/target/bin"
ln -sf "$TARGET_DIR/$server_dir/crossdock" "$ROOT/target/bin/crossdock"
