#!/usr/bin/env bash
# System calls per frame in loopbench's one-way streaming, counted by the kernel's syscall
# tracepoints (`perf stat`, which counts in the kernel and does not slow the calls down).
#
#   bash scripts/syscalls.sh [SIZE...]       # default sizes: 64 1024 1048576
#
# One run of each implementation per transport and size (`loopbench --reps 1`); each cell
# gives reads / writes / epoll_wait calls per 1,000 frames, counted over the whole process: reads (read, recvfrom, readv, recvmsg) come from the reader
# thread, writes (write, sendto, writev, sendmsg) from the writer thread, and the tokio
# implementations also wait in epoll_wait on both sides. Setup adds a few dozen calls per
# process, nothing per frame. Needs perf with access to tracepoints (root, or
# kernel.perf_event_paranoid <= -1).
set -euo pipefail
cd "$(dirname "$0")/.."

sizes=("$@")
[ ${#sizes[@]} -gt 0 ] || sizes=(64 1024 1048576)

cargo build --release --features tokio --example loopbench >&2
bin=${CARGO_TARGET_DIR:-target}/release/examples/loopbench

reads=(read recvfrom readv recvmsg)
writes=(write sendto writev sendmsg)
events=()
for e in "${reads[@]}" "${writes[@]}" epoll_wait; do
  events+=(-e "syscalls:sys_enter_$e")
done

impls=(raw hand lenframe lenframe-async tokio-util lenframe-codec)
# One row per transport and size; per implementation "reads / writes / epoll_wait" per 1,000
# frames, then the bytes each read and write moved on average.
printf "| transport | frame |"
printf " %s |" "${impls[@]}"
printf " bytes per read: raw / lenframe |\n|---|---|"
printf -- "---:|%.0s" "${impls[@]}"
printf -- "---:|\n"
for transport in tcp unix; do
  for size in "${sizes[@]}"; do
    row=""
    for imp in "${impls[@]}"; do
      counts=$(mktemp)
      table=$(perf stat -x, -o "$counts" "${events[@]}" -- \
        "$bin" --reps 1 --only stream --transport "$transport" --size "$size" --impl "$imp" \
        --charts "${TMPDIR:-/tmp}/lenframe-syscalls-charts")
      frames=$(echo "$table" | awk -F'|' '$2 ~ /(TCP|Unix)/ {gsub(/ /, "", $4); print $4}')
      row+=$(awk -F, -v size="$size" -v imp="$imp" -v frames="$frames" '
        $3 ~ /sys_enter_(read|recvfrom|readv|recvmsg)$/ { r += $1 }
        $3 ~ /sys_enter_(write|sendto|writev|sendmsg)$/ { w += $1 }
        $3 ~ /sys_enter_epoll_wait$/ { e += $1 }
        END {
          wire = size + (imp == "raw" ? 0 : 4)
          printf "%.1f / %.1f / %.1f\t%.0f\n", r * 1000 / frames, w * 1000 / frames, e * 1000 / frames, (r ? wire * frames / r : 0)
        }' "$counts")$'\n'
      rm -f "$counts"
    done
    echo -n "$row" | awk -F'\t' -v transport="$transport" -v size="$size" '
      { cell[NR] = $1; bytes[NR] = $2 }
      END {
        name = transport == "tcp" ? "TCP" : "Unix"
        frame = size >= 1048576 ? size / 1048576 " MiB" : size >= 1024 ? size / 1024 " KiB" : size " B"
        printf "| %s | %s |", name, frame
        for (i = 1; i <= NR; i++) printf " %s |", cell[i]
        printf " %s / %s |\n", bytes[1], bytes[3]
      }'
  done
done
