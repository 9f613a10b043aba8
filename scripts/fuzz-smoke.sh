#!/usr/bin/env bash
# Short fuzz run of every target in fuzz/, for CI: bash scripts/fuzz-smoke.sh [SECONDS]
#
# Builds the cargo-fuzz targets (nightly, AddressSanitizer) and runs each one for SECONDS
# (default 30) on a copy of the committed seed corpus in a temporary directory, under the
# memory and time limits of fuzz/README.md. Fails on any crash, leak, timeout or
# out-of-memory, printing the failing input. Without a nightly toolchain it says so and
# exits 0.
set -euo pipefail

duration="${1:-30}"
case "$duration" in
  '' | *[!0-9]* | 0)
    echo "usage: $0 [SECONDS]  (a positive whole number of seconds per target)" >&2
    exit 2
    ;;
esac

cd "$(dirname "$0")/.."

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzz smoke run skipped: no nightly toolchain ('cargo +nightly' is not available)."
  echo "cargo-fuzz needs nightly for its sanitizer and coverage flags; install one with"
  echo "'rustup toolchain install nightly' to run it."
  exit 0
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "cargo-fuzz not found: installing it with 'cargo install cargo-fuzz --locked'"
  cargo install cargo-fuzz --locked
fi
cargo fuzz --version
cargo +nightly --version

targets=(decode_bytes decode_split roundtrip reader async_reader frames recover checksum_decode kv_request)
# -malloc_limit_mb far below the 1 GiB frame limits some configurations use: an allocation
# sized by a declared length is a finding. A smaller ASan quarantine keeps RSS honest
# under -rss_limit_mb.
flags=(
  "-max_total_time=$duration"
  -malloc_limit_mb=64
  -rss_limit_mb=256
  -timeout=10
  -dict=fuzz/dict/frames.dict
  -print_final_stats=1
)
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=16"

host="$(rustc +nightly -vV | sed -n 's/^host: //p')"
echo "building fuzz targets for $host"
# An explicit target dir: a CARGO_TARGET_DIR in the environment must not move the binaries.
cargo +nightly fuzz build --target-dir "$PWD/fuzz/target"
bindir="fuzz/target/$host/release"

work="$(mktemp -d "${TMPDIR:-/tmp}/lenframe-fuzz.XXXXXX")"
trap 'rm -rf "$work"' EXIT

failed=()
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  artifacts="$work/artifacts/$target/"
  mkdir -p "$corpus" "$artifacts"
  cp fuzz/corpus/"$target"/seed-* "$corpus"/
  seeds=$(find "$corpus" -type f | wc -l)
  log="$work/$target.log"
  printf '\n--- %s: %ss from %s seeds ---\n' "$target" "$duration" "$seeds"
  status=0
  "$bindir/$target" "${flags[@]}" "-artifact_prefix=$artifacts" "$corpus" >"$log" 2>&1 || status=$?
  done_line=$(grep -E '^#[0-9]+[[:space:]]+DONE' "$log" | tail -n 1 || true)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  echo "execs: ${execs:-unknown}"
  echo "final: ${done_line:-none}"
  echo "corpus: $(find "$corpus" -type f | wc -l) inputs"
  if [ "$status" -ne 0 ] || [ -z "$done_line" ]; then
    echo "FAILED: $target (exit status $status)"
    tail -n 60 "$log"
    for input in "$artifacts"*; do
      [ -f "$input" ] || continue
      echo "failing input $(basename "$input") ($(wc -c <"$input") bytes), hex:"
      od -An -tx1 -v "$input" | head -n 64
    done
    failed+=("$target")
  fi
done

echo
if [ "${#failed[@]}" -ne 0 ]; then
  echo "fuzz smoke run failed: ${failed[*]}"
  exit 1
fi
echo "fuzz smoke run passed: ${targets[*]}, ${duration}s each"
