#!/usr/bin/env bash
# Builds the optimised browser bundle (wasm-release profile, wasm-bindgen,
# wasm-opt -Oz) into target/site-release and prints its size, raw and
# compressed, as a browser downloads it.
source "$(dirname "$0")/common.sh"
cd "$ROOT"
"$ROOT/scripts/setup.sh"
out="$ROOT/target/site-release/pkg"
mkdir -p "$out"
cargo build -p crossdock-app --lib --target wasm32-unknown-unknown --no-default-features --features hydrate --profile wasm-release
wasm-bindgen --target web --no-typescript --out-dir "$out" --out-name "$OUTPUT_NAME" \
  "$TARGET_DIR/wasm32-unknown-unknown/wasm-release/crossdock_app.wasm"
if [ ! -x "$ROOT/end2end/node_modules/.bin/wasm-opt" ]; then
  (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
fi
"$ROOT/end2end/node_modules/.bin/wasm-opt" -Oz --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext \
  --enable-reference-types --enable-multivalue --enable-mutable-globals \
  "$out/${OUTPUT_NAME}_bg.wasm" -o "$out/$OUTPUT_NAME.wasm"
size() { wc -c < "$1" | tr -d ' '; }
gz() { gzip -9 -c "$1" | wc -c | tr -d ' '; }
br() { if command -v brotli >/dev/null; then brotli -c -q 11 "$1" | wc -c | tr -d ' '; else echo "n/a"; fi; }
printf '%-16s %10s %10s %10s\n' file raw gzip brotli
for f in "$out/$OUTPUT_NAME.wasm" "$out/$OUTPUT_NAME.js"; do
  printf '%-16s %10s %10s %10s\n' "$(basename "$f")" "$(size "$f")" "$(gz "$f")" "$(br "$f")"
done
