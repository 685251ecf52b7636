#!/usr/bin/env bash
# Builds the optimised browser bundle into target/site (wasm-release profile,
# lazily loaded routes split out, wasm-opt -Oz) and prints the size of each
# part, raw and compressed as a browser downloads it: the main bundle every
# page loads, then each lazily loaded route and the pieces the routes share.
#   scripts/bundle-size.sh           build, then print
#   scripts/bundle-size.sh --built   print what `scripts/build.sh --release` built
source "$(dirname "$0")/common.sh"
cd "$ROOT"
built=false
[ "${1:-}" = "--built" ] && built=true
$built || "$ROOT/scripts/setup.sh"
if ! command -v brotli >/dev/null; then
  say "installing brotli from the distribution's packages (to print brotli sizes)"
  { as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
    && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq brotli >/dev/null; } || true
fi
$built || "$ROOT/scripts/build.sh" --release --site
pkg="$SITE_ROOT/pkg"

raw() { cat "$@" | wc -c | tr -d ' '; }
gz() { local n=0; for f in "$@"; do n=$((n + $(gzip -9 -c "$f" | wc -c))); done; echo "$n"; }
br() {
  if ! command -v brotli >/dev/null; then echo "n/a"; return; fi
  local n=0; for f in "$@"; do n=$((n + $(brotli -c -q 11 "$f" | wc -c))); done; echo "$n"
}
row() { local name=$1; shift; printf '%-34s %10s %10s %10s\n' "$name" "$(raw "$@")" "$(gz "$@")" "$(br "$@")"; }

printf '%-34s %10s %10s %10s\n' part raw gzip brotli
main=("$pkg/$OUTPUT_NAME.wasm" "$pkg/$OUTPUT_NAME.js" "$pkg"/__wasm_split*.js)
row "main (wasm, js, loader)" "${main[@]}"
row "  $OUTPUT_NAME.wasm" "$pkg/$OUTPUT_NAME.wasm"
for f in "$pkg"/split_*.wasm; do
  name=$(basename "$f" .wasm | sed -E 's/^split_+//; s/_[0-9]+$//; s/_view$//')
  row "  lazy: $name" "$f"
done
shared=("$pkg"/chunk_*.wasm)
row "  shared by lazy routes (${#shared[@]} files)" "${shared[@]}"
lazy=("$pkg"/split_*.wasm "${shared[@]}")
row "every lazy part together" "${lazy[@]}"
