#!/usr/bin/env bash
# System calls per frame in loopbench's one-way streaming, counted by the kernel's syscall
# tracepoints (`perf stat`, which counts in the kernel and does not slow the calls down).
#
#   bash scripts/syscalls.sh [SIZE...]       # default sizes: 64 1024 1048576
#
# One run of each implementation per transport and size (`loopbench --reps 1`); the counts
# are the whole process's: reads (read, recvfrom, readv, recvmsg) come from the reader
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

echo "| transport | frame | implementation | frames | reads per 1000 frames | writes per 1000 frames | epoll_wait per 1000 frames | bytes/read | bytes/write |"
echo "|---|---|---|---:|---:|---:|---:|---:|---:|"
for transport in tcp unix; do
  for size in "${sizes[@]}"; do
    for imp in raw hand lenframe lenframe-async tokio-util lenframe-codec; do
      counts=$(mktemp)
      table=$(perf stat -x, -o "$counts" "${events[@]}" -- \
        "$bin" --reps 1 --only stream --transport "$transport" --size "$size" --impl "$imp" \
        --charts "${TMPDIR:-/tmp}/lenframe-syscalls-charts")
      frames=$(echo "$table" | awk -F'|' '$2 ~ /(TCP|Unix)/ {gsub(/ /, "", $4); print $4}')
      awk -F, -v transport="$transport" -v size="$size" -v imp="$imp" -v frames="$frames" '
        $3 ~ /sys_enter_(read|recvfrom|readv|recvmsg)$/ { r += $1 }
        $3 ~ /sys_enter_(write|sendto|writev|sendmsg)$/ { w += $1 }
        $3 ~ /sys_enter_epoll_wait$/ { e += $1 }
        END {
          wire = size + (imp == "raw" ? 0 : 4)
          printf "| %s | %d | %s | %d | %.1f | %.1f | %.1f | %.0f | %.0f |\n", transport, size, imp, frames,
            r * 1000 / frames, w * 1000 / frames, e * 1000 / frames, r ? wire * frames / r : 0, w ? wire * frames / w : 0
        }' "$counts"
      rm -f "$counts"
    done
  done
done
