#!/usr/bin/env bash
# Builds the browser bundle into target/site and the server binary.
#   scripts/build.sh            debug build (what the tests and `make run` use)
#   scripts/build.sh --release  optimised build (wasm-release profile, wasm-opt)
#   scripts/build.sh --site     the browser bundle only (the tests build the server)
#   scripts/build.sh --release --site   the optimised browser bundle only
source "$(dirname "$0")/common.sh"
cd "$ROOT"

release=false
site_only=false
for arg in "$@"; do
  case "$arg" in
    --release) release=true ;;
    --site) site_only=true ;;
    *) echo "unknown option: $arg" >&2; exit 2 ;;
  esac
done

if $release; then
  wasm_profile=wasm-release; server_flags=(--release); server_dir=release
else
  wasm_profile=dev; server_flags=(); server_dir=debug
fi
wasm_dir=$([ "$wasm_profile" = dev ] && echo debug || echo "$wasm_profile")

say "building the browser bundle ($wasm_profile)"
cargo build -p crossdock-app --lib --target wasm32-unknown-unknown \
  --no-default-features --features hydrate --profile "$wasm_profile"

# Cut the lazily loaded routes out of the main bundle: the splitter writes the
# main module (for wasm-bindgen), a part per route and per piece of code the
# routes share, and the loader the main module imports them through.
pkg="$SITE_ROOT/pkg"
split_dir="$TARGET_DIR/wasm-split/$wasm_dir"
rm -rf "$pkg" "$split_dir"
mkdir -p "$pkg" "$split_dir"
wasm-split-cli "$TARGET_DIR/wasm32-unknown-unknown/$wasm_dir/crossdock_app.wasm" "$split_dir" --out-name "$OUTPUT_NAME"
wasm-bindgen --target web --no-typescript --keep-lld-exports --no-demangle \
  --out-dir "$pkg" --out-name "$OUTPUT_NAME" "$split_dir/$OUTPUT_NAME.wasm"
# The server's hydration script fetches <name>.wasm, as cargo-leptos names it.
mv "$pkg/${OUTPUT_NAME}_bg.wasm" "$pkg/$OUTPUT_NAME.wasm"
find "$split_dir" -maxdepth 1 -type f ! -name "$OUTPUT_NAME.wasm" -exec cp {} "$pkg/" \;

if $release; then
  wasm_opt="$ROOT/end2end/node_modules/.bin/wasm-opt"
  if [ ! -x "$wasm_opt" ]; then
    (cd "$ROOT/end2end" && npm ci --no-audit --no-fund --loglevel=error)
  fi
  say "optimising the bundle with wasm-opt"
  # The main module and the parts, two at a time.
  find "$pkg" -name '*.wasm' -print0 | xargs -0 -P 2 -I {} "$wasm_opt" -Oz --enable-bulk-memory \
    --enable-nontrapping-float-to-int --enable-sign-ext --enable-reference-types --enable-multivalue \
    --enable-mutable-globals {} -o {}
fi

cp "$ROOT/style/main.css" "$SITE_ROOT/pkg/$OUTPUT_NAME.css"
cp -R "$ROOT/public/." "$SITE_ROOT/"

if $release; then
  # Compressed once here: a .gz beside each file, and a .br where brotli is
  # installed; the server sends one of them to a browser that accepts it.
  say "compressing the bundle"
  find "$pkg" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -print0 | xargs -0 gzip -9 -k -f
  if command -v brotli >/dev/null; then
    find "$pkg" -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -print0 | xargs -0 -P 2 -n 20 brotli -q 11 -k -f
  fi
fi

if $site_only; then
  exit 0
fi

say "building the server"
cargo build -p crossdock-server --bin crossdock "${server_flags[@]}"
mkdir -p "$ROOT/target/bin"
ln -sf "$TARGET_DIR/$server_dir/crossdock" "$ROOT/target/bin/crossdock"
