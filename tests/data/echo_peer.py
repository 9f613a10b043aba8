#!/usr/bin/env python3
"""An independent length-prefixed framing peer for lenframe's interop tests.

Wire format: a 4-byte big-endian payload length (struct.pack('>I', n)), then the payload,
which is what lenframe's default FrameConfig writes and reads.

Listens on 127.0.0.1 on a port the OS picks, prints that port on one line of stdout, accepts
one connection and sends back every frame it reads, re-encoded. At a clean end of stream (at
a frame boundary) it closes its side and exits 0; if the stream ends inside a frame it exits
1. Every socket operation has a timeout, so the peer never outlives a test that died.
Standard library only.
"""

import socket
import struct
import sys

TIMEOUT_SECONDS = 60


def read_exact(conn, n):
    """Returns n bytes, or fewer if the stream ended first."""
    chunks = []
    while n > 0:
        chunk = conn.recv(min(n, 1 << 16))
        if not chunk:
            break
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def main():
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.settimeout(TIMEOUT_SECONDS)
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    print(listener.getsockname()[1], flush=True)
    conn, _ = listener.accept()
    listener.close()
    conn.settimeout(TIMEOUT_SECONDS)
    frames = 0
    payload_bytes = 0
    with conn:
        while True:
            header = read_exact(conn, 4)
            if not header:
                break
            if len(header) < 4:
                print(f"truncated header: {len(header)} of 4 bytes", file=sys.stderr)
                return 1
            (n,) = struct.unpack(">I", header)
            payload = read_exact(conn, n)
            if len(payload) < n:
                print(f"truncated payload: {len(payload)} of {n} bytes", file=sys.stderr)
                return 1
            conn.sendall(struct.pack(">I", len(payload)) + payload)
            frames += 1
            payload_bytes += n
        conn.shutdown(socket.SHUT_WR)
    print(f"echoed {frames} frames, {payload_bytes} payload bytes", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
