#!/usr/bin/env bash
# Instruction counts per frame under callgrind (benches/instructions.rs, through gungraun).
#
#   bash scripts/instructions.sh            # run the bench, print the per-frame table and
#                                           #    each front end's ratio to its peer
#   bash scripts/instructions.sh --check    # ...and fail if a figure grew by more than 5%
#                                           #    over benches/instructions.baseline
#   bash scripts/instructions.sh --save     # ...and write the figures as the new baseline
#   bash scripts/instructions.sh --no-run --check   # use the last run's callgrind files
#
# Each implementation runs over n and 2n frames per size (see `runs` in the bench); a figure
# per frame is (count for 2n - count for n) / n, so what happens once per run drops out.
# Figures: instructions (Ir), L1 misses (I1mr + D1mr + D1mw) and last-level misses (ILmr +
# DLmr + DLmw) of callgrind's cache simulation. They depend on the compiler and on the
# library's code, not on the machine's load: after a toolchain upgrade, --save a new baseline.
#
# The check fails when a figure exceeds its baseline by more than 5% and by more than 0.5
# per frame (so that a miss count of 0.02 per frame going to 0.03 is not a failure).
# Needs valgrind and the gungraun-runner binary of the same version as the gungraun crate in
# Cargo.lock; the script installs them (apt-get, cargo install) when they are missing.
set -euo pipefail
cd "$(dirname "$0")/.."

run=1
mode=print
for arg in "$@"; do
  case "$arg" in
    --check) mode=check ;;
    --save) mode=save ;;
    --no-run) run=0 ;;
    *)
      echo "usage: $0 [--check | --save] [--no-run]" >&2
      exit 2
      ;;
  esac
done

baseline=benches/instructions.baseline
target=${CARGO_TARGET_DIR:-target}
out="$target/gungraun/lenframe/instructions"

if [ "$run" = 1 ]; then
  if ! command -v valgrind >/dev/null 2>&1; then
    echo "installing valgrind" >&2
    apt-get update >&2 && apt-get install -y valgrind >&2
  fi
  version=$(awk '/^name = "gungraun"$/ {getline; gsub(/[^0-9.]/, ""); print; exit}' Cargo.lock)
  if [ "$(gungraun-runner --version 2>/dev/null | awk '{print $2}')" != "$version" ]; then
    echo "installing gungraun-runner $version (the version of the gungraun crate)" >&2
    cargo install gungraun-runner --version "$version" --locked >&2
  fi
  log=$(mktemp "${TMPDIR:-/tmp}/lenframe-instructions.XXXXXX")
  if ! cargo bench --features tokio --bench instructions >"$log" 2>&1; then
    cat "$log" >&2
    exit 1
  fi
  rm -f "$log"
fi

# One line per implementation and size: group, name, size, Ir, L1 misses, LL misses per frame.
figures() {
  for dir in "$out"/{read,write,parse,codec,checksum}/*.per_frame_0; do
    group=$(basename "$(dirname "$dir")")
    name=$(basename "$dir" .per_frame_0)
    for i in 0 1 2 3; do
      for k in $((2 * i)) $((2 * i + 1)); do
        awk '/^totals:/ {print $2, $3, $4, $5, $6, $7, $8, $9, $10}' \
          "$out/$group/$name.per_frame_$k/callgrind.$name.per_frame_$k.out"
      done | awk -v group="$group" -v name="$name" -v i="$i" '
        BEGIN { split("16 64 1024 1048576", sizes, " ") }
        NR == 1 { for (f = 1; f <= 9; f++) a[f] = $f + 0 }
        NR == 2 { for (f = 1; f <= 9; f++) b[f] = $f + 0 }
        END {
          size = sizes[i + 1]
          n = int(512 * 1024 / size); if (n < 2) n = 2
          ir = (b[1] - a[1]) / n
          l1 = (b[4] + b[5] + b[6] - a[4] - a[5] - a[6]) / n
          ll = (b[7] + b[8] + b[9] - a[7] - a[8] - a[9]) / n
          printf "%s\t%s\t%d\t%.2f\t%.2f\t%.2f\n", group, name, size, ir, l1, ll
        }'
    done
  done
}

current=$(figures)

# The table: one row per implementation, per size "instructions / L1 misses / LL misses".
echo "$current" | awk -F'\t' '
  function label(s) { return s >= 1048576 ? s / 1048576 " MiB" : s >= 1024 ? s / 1024 " KiB" : s " B" }
  function num(x) { return x >= 100 ? sprintf("%.0f", x) : sprintf("%.1f", x) }
  {
    key = $1 "\t" $2
    if (!(key in seen)) { seen[key] = 1; order[++rows] = key }
    if (!($3 in col)) { col[$3] = 1; sizes[++ncols] = $3 }
    cell[key, $3] = num($4) " / " num($5) " / " num($6)
  }
  END {
    printf "| group | implementation |"
    for (c = 1; c <= ncols; c++) printf " %s |", label(sizes[c])
    printf "\n|---|---|"
    for (c = 1; c <= ncols; c++) printf "---:|"
    printf "\n"
    for (r = 1; r <= rows; r++) {
      split(order[r], k, "\t")
      printf "| %s | %s |", k[1], k[2]
      for (c = 1; c <= ncols; c++) printf " %s |", cell[order[r], sizes[c]]
      printf "\n"
    }
  }'

# Each front end against its peer: the ratio of instructions per frame, per size.
echo
echo "$current" | awk -F'\t' '
  BEGIN {
    n = split("lenframe_reader raw_bufreader;lenframe_writer raw_bufwriter;" \
      "lenframe_async_reader lenframe_reader;lenframe_async_writer lenframe_writer;" \
      "lenframe_async_reader tokio_util_framed_read;lenframe_async_writer tokio_util_framed_write;" \
      "lenframe_codec_framed_read tokio_util_framed_read;lenframe_codec_framed_write tokio_util_framed_write;" \
      "lenframe_codec_decode tokio_util_decode;lenframe_codec_encode tokio_util_encode;" \
      "lenframe_frames slice_parse;crc32c_frames lenframe_frames;crc32c_reader lenframe_reader;" \
      "crc32c_writer lenframe_writer", pairs, ";")
  }
  function label(s) { return s >= 1048576 ? s / 1048576 " MiB" : s >= 1024 ? s / 1024 " KiB" : s " B" }
  {
    ir[$2, $3] = $4
    if (!($3 in col)) { col[$3] = 1; sizes[++ncols] = $3 }
  }
  END {
    printf "| instructions per frame, a / b |"
    for (c = 1; c <= ncols; c++) printf " %s |", label(sizes[c])
    printf "\n|---|"
    for (c = 1; c <= ncols; c++) printf "---:|"
    printf "\n"
    for (p = 1; p <= n; p++) {
      split(pairs[p], ab, " ")
      printf "| %s / %s |", ab[1], ab[2]
      for (c = 1; c <= ncols; c++) {
        b = ir[ab[2], sizes[c]]
        printf " %s |", (b > 0 ? sprintf("%.2f", ir[ab[1], sizes[c]] / b) : "-")
      }
      printf "\n"
    }
  }'

case "$mode" in
  save)
    {
      echo "# group	implementation	size	instructions	L1 misses	LL misses (per frame; scripts/instructions.sh --save)"
      echo "$current"
    } >"$baseline"
    echo "baseline written to $baseline"
    ;;
  check)
    if [ ! -f "$baseline" ]; then
      echo "no baseline at $baseline: run $0 --save" >&2
      exit 1
    fi
    echo
    awk -F'\t' '
      BEGIN { names[4] = "instructions"; names[5] = "L1 misses"; names[6] = "LL misses" }
      FNR == NR { if ($0 !~ /^#/) for (f = 4; f <= 6; f++) base[$1, $2, $3, f] = $f; next }
      {
        for (f = 4; f <= 6; f++) {
          if (!(($1, $2, $3, f) in base)) { missing++; continue }
          checked++
          was = base[$1, $2, $3, f]
          if ($f > was * 1.05 && $f > was + 0.5) {
            printf "REGRESSION %s/%s %d B: %s per frame %s -> %s (+%.1f%%)\n", $1, $2, $3, names[f], was, $f, (was > 0 ? ($f / was - 1) * 100 : 100)
            failed++
          }
        }
      }
      END {
        if (missing) printf "%d figures have no baseline (run --save to add them)\n", missing
        printf "figures per frame: %d passed, %d failed\n", checked - failed, failed + 0
        exit failed > 0
      }' "$baseline" - <<<"$current"
    ;;
esac
