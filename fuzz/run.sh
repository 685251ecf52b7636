#!/usr/bin/env bash
# Runs the fuzz targets (all of them, or those named as arguments) for
# $CROSSDOCK_FUZZ_SECONDS seconds each (default 20) and fails if any finds a
# crash. See docs/fuzzing.md.
#   fuzz/run.sh                                   # every target, 20 s each
#   CROSSDOCK_FUZZ_SECONDS=3600 fuzz/run.sh event_parse
source "$(dirname "$0")/../scripts/common.sh"
FUZZ="$ROOT/fuzz"
SECONDS_EACH="${CROSSDOCK_FUZZ_SECONDS:-20}"
# AddressSanitizer by default; `none` where a toolchain lacks its runtime.
SANITIZER="${CROSSDOCK_FUZZ_SANITIZER:-address}"
# cargo-fuzz passes nightly-only flags (-Z sanitizer, sancov); the stable
# toolchain accepts them with this.
export RUSTC_BOOTSTRAP=1

if ! cargo fuzz --version >/dev/null 2>&1; then
  say "installing cargo-fuzz"
  cargo install cargo-fuzz --version 0.13.2 --locked \
    || cargo install cargo-fuzz --version 0.13.2
fi

targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(event_parse binary_headers webhook_headers)

cd "$ROOT"
# Overflow checks and debug assertions on: an overflow in a reader is a bug
# even where a release build would wrap.
fuzz=(--fuzz-dir "$FUZZ" --sanitizer "$SANITIZER" --debug-assertions)
say "building the fuzz targets"
cargo fuzz build "${fuzz[@]}"

# The panic (or sanitizer error) and the failing input with how to replay it;
# the end of the log when there is neither.
report() {
  local found
  found=$(grep -a -m1 -A6 -E 'panicked at|ERROR: AddressSanitizer|ERROR: libFuzzer: (timeout|out-of-memory)' "$1"
    sed -n '/^Failing input:/,/^Minimize test case with:/p' "$1")
  if [ -n "$found" ]; then printf '%s\n' "$found" >&2; else tail -n 60 "$1" >&2; fi
}

failed=()
for target in "${targets[@]}"; do
  # New inputs go to corpus-grown/ (not committed); the seeds in corpus/ are
  # only read. Crashes land in artifacts/<target>/.
  grown="$FUZZ/corpus-grown/$target"
  log="$FUZZ/logs/$target.log"
  mkdir -p "$grown" "$(dirname "$log")"
  options=(-max_total_time="$SECONDS_EACH" -timeout=10)
  case "$target" in
    event_parse | binary_headers) options+=(-dict="$FUZZ/contract.dict") ;;
  esac
  say "fuzzing $target for ${SECONDS_EACH}s ($SANITIZER sanitizer)"
  if cargo fuzz run "${fuzz[@]}" "$target" "$grown" "$FUZZ/corpus/$target" -- "${options[@]}" >"$log" 2>&1; then
    grep -a -E '^Done [0-9]+ runs' "$log" >&2 || true
  else
    report "$log"
    say "$target failed: the whole output is in ${log#"$ROOT/"}"
    failed+=("$target")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  say "crashes in: ${failed[*]} (inputs in fuzz/artifacts/<target>/; docs/fuzzing.md tells how to reproduce)"
  exit 1
fi
