#!/usr/bin/env python3
"""Writes the committed seed corpus: fuzz/corpus/<target>/seed-*.

Run from anywhere: python3 fuzz/seeds.py. The byte layouts are those of lenframe-testkit's
fuzz module (ArbConfig, ReadOp, AsyncReadOp, HandlerInput), of each target, and of arbitrary 1.x's Vec (each element
after a byte whose low bit is 1, then a byte whose low bit is 0); see fuzz/README.md.
"""
import os
import struct

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
FIELDS = ["u8", "u16be", "u16le", "u24be", "u24le", "u32be", "u32le", "u64be", "u64le", "varint"]
WIDTH = {"u8": 1, "u16be": 2, "u16le": 2, "u24be": 3, "u24le": 3, "u32be": 4, "u32le": 4,
         "u64be": 8, "u64le": 8}
HUGE = 3  # limit kind: 1 GiB


def cfg(field="u32be", offset=0, adj=None, skip=None, limit=None, oversize_skip=False):
    """The 10 configuration bytes. adj: None, an int (i16), or 'header' (minus the
    shortest header). limit: None (default), an int (24-bit), or 'huge'."""
    b = bytearray(10)
    b[0] = (FIELDS.index(field) - 5) % 10
    b[1] = offset
    if adj == "header":
        b[2] = 3
    elif adj is not None:
        b[2] = 2
        b[3:5] = struct.pack("<h", adj)
    if skip is not None:
        b[5] = skip + 1
    if limit == "huge":
        b[6] = HUGE
    elif limit is not None:
        b[6] = 2
        b[7:10] = struct.pack("<I", limit)[:3]
    if oversize_skip:
        b[6] |= 0x80
    return bytes(b)


def varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def field_bytes(field, v):
    if field == "varint":
        return varint(v)
    w = WIDTH[field]
    order = "little" if field.endswith("le") else "big"
    return v.to_bytes(w, order)


def frame(field, payload, offset=0, adj=0):
    return bytes(offset) + field_bytes(field, len(payload) - adj) + payload


def crc32c(data):
    """CRC-32C (Castagnoli), bit by bit: the checksum lenframe's Checksum::Crc32c writes."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def crc_frame(field, payload, offset=0, adj=0):
    """A frame with its CRC-32C trailer: the CRC of header and payload, little-endian."""
    f = frame(field, payload, offset, adj)
    return f + struct.pack("<I", crc32c(f))


def arb_vec(items):
    """What arbitrary 1.x reads as a Vec of these items (each already in its own form)."""
    return b"".join(b"\x01" + item for item in items) + b"\x00"


def arb_payloads(payloads):
    """A Vec<Vec<u8>> for arbitrary 1.x."""
    return arb_vec([arb_vec([bytes([b]) for b in p]) for p in payloads])


def arb_damage(damage):
    """A Vec<(u16, u8)> for arbitrary 1.x: (offset, xor) pairs."""
    return arb_vec([struct.pack("<HB", at, xor) for at, xor in damage])


def checksummed():
    """(name, config bytes, wire bytes) for the Crc32c layouts: whole frames, a flipped
    payload bit, a torn end, a length damaged into an oversized one under Oversize::Skip."""
    out = []
    d = cfg()
    good = crc_frame("u32be", b"hello") + crc_frame("u32be", b"") + crc_frame("u32be", b"world")
    out.append(("crc-frames", d, good))
    out.append(("crc-damaged", d, good[:6] + b"m" + good[7:]))
    out.append(("crc-torn", d, good[:-3]))
    out.append(("crc-skip-small-limit", cfg(limit=2, oversize_skip=True), good))
    for f in FIELDS:
        wire = crc_frame(f, b"abc") + crc_frame(f, b"") + crc_frame(f, b"\xff" * 130)
        out.append((f"crc-{f}-frames", cfg(f), wire))
        w = WIDTH.get(f, 1)
        out.append((f"crc-{f}-damaged", cfg(f), wire[: w + 1] + b"\x00" + wire[w + 2:]))
        out.append((f"crc-{f}-torn", cfg(f), wire[:-2]))
    return out


def wires():
    """(name, config bytes, wire bytes)"""
    out = []
    d = cfg()
    out.append(("default-frames", d, frame("u32be", b"hello") + frame("u32be", b"") + frame("u32be", b"bye")))
    out.append(("default-trailing-header", d, frame("u32be", b"hi") + b"\x00\x00"))
    out.append(("default-truncated-payload", d, b"\x00\x00\x00\x05hel"))
    out.append(("default-u32-max-header", d, b"\xff\xff\xff\xff"))
    out.append(("default-limit-plus-one", d, b"\x00\x80\x00\x01" + b"x" * 8))
    out.append(("default-empty-frames", d, b"\x00\x00\x00\x00" * 8))
    for f in FIELDS:
        out.append((f"{f}-frames", cfg(f), frame(f, b"abc") + frame(f, b"") + frame(f, b"\xff" * 130)))
        w = f if f != "varint" else "varint"
        # Offset 2, a length that counts the whole header, num_skip 1.
        hdr = 2 + (WIDTH.get(f, 1))
        out.append((f"{w}-offset-counted", cfg(f, offset=2, adj="header", skip=1),
                    frame(f, b"payload", offset=2, adj=-hdr) + frame(f, b"", offset=2, adj=-hdr)))
        out.append((f"{w}-truncated", cfg(f), frame(f, b"abcdef")[:-3]))
    # Varint edge cases.
    v = cfg("varint")
    out.append(("varint-11-bytes", v, b"\x80" * 10 + b"\x01"))
    out.append(("varint-10-bytes-overflow", v, b"\xff" * 9 + b"\x02"))
    out.append(("varint-u64-max", v, b"\xff" * 9 + b"\x01"))
    out.append(("varint-overlong", v, b"\x80\x00"))
    out.append(("varint-overlong-3", v, b"\x81\x80\x00"))
    out.append(("varint-partial", v, b"\x80\x80\x80"))
    # A 1 GiB limit: declared lengths far above what may be allocated.
    for f in ["u32be", "u64le", "varint"]:
        out.append((f"{f}-huge-limit-declared", cfg(f, limit="huge"), field_bytes(f, (1 << 30) - 1) + b"0123456789"))
    out.append(("u64be-largest-limit", bytes([2, 0, 0, 0, 0, 0, 4, 0, 0, 0]), b"\xff" * 8 + b"abc"))
    # Small limits, both policies.
    out.append(("small-limit-error", cfg(limit=4), frame("u32be", b"12345") + frame("u32be", b"ok")))
    out.append(("small-limit-skip", cfg(limit=4, oversize_skip=True),
                frame("u32be", b"12345") + frame("u32be", b"ok") + frame("u32be", b"toolong") + frame("u32be", b"")))
    out.append(("u8-skip-varint-like", cfg("u8", limit=2, oversize_skip=True), b"\x03abc\x01z\xff" + b"q" * 10))
    out.append(("negative-length", cfg(adj=-4), b"\x00\x00\x00\x03abc"))
    return out


def write(target, name, data):
    d = os.path.join(ROOT, target)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as fh:
        fh.write(data)


def main():
    for name, c, wire in wires():
        write("decode_bytes", name, c + wire)
        write("decode_split", name + "-bytewise", c + b"\x00" + wire)
        write("decode_split", name + "-chunks", c + b"\x03\x03\x01\x07" + wire)
        # Step 4; script: short read of 1, Interrupted, WouldBlock, full read.
        write("reader", name + "-faults", c + b"\x03" + b"\x04\x00\x40\x80\xc0" + wire)
        write("reader", name, c + b"\x3f\x00" + wire)
        # Step 4; poll script: Pending, short read of 1, ConnectionReset, Interrupted, short
        # read of 5, full read; futures dropped after 1 poll, after 2, then polled to the end.
        write("async_reader", name + "-polls",
              c + b"\x03" + b"\x06\x40\x00\xa0\x80\x04\xe0" + b"\x03\x04\x01\x00" + wire)
        write("async_reader", name, c + b"\x3f\x00\x00" + wire)
        # Writer capacity 8, then bytes the fuzzer's Arbitrary splits into frames.
        write("roundtrip", name, c + b"\x07\x00" + wire)
        # No checksum.
        write("frames", name, c + b"\x00" + wire)
        write("recover", name, c + b"\x00" + wire)
    for name, c, wire in checksummed():
        write("frames", name, c + b"\x01" + wire)
        write("recover", name, c + b"\x01" + wire)
    # checksum_decode: payloads encoded with a CRC-32C trailer in the layout, then damage.
    payloads = [b"hello", b"", b"world", b"\xff" * 130]
    for f in FIELDS:
        write("checksum_decode", f"{f}-frames", cfg(f) + arb_payloads(payloads) + arb_damage([]))
        # A bit of the first payload, then the first length field.
        write("checksum_decode", f"{f}-damaged",
              cfg(f) + arb_payloads(payloads) + arb_damage([(WIDTH.get(f, 1) + 1, 0x04)]))
        write("checksum_decode", f"{f}-length-damaged",
              cfg(f) + arb_payloads(payloads) + arb_damage([(WIDTH.get(f, 1) - 1, 0x01)]))
    # Limit 8 under Oversize::Skip: "hello" fits; a length damaged past 8 is skipped.
    write("checksum_decode", "small-limit-skip",
          cfg(limit=8, oversize_skip=True) + arb_payloads([b"hello", b"toolongpayload", b"ok"])
          + arb_damage([(3, 0x08)]))
    # Found by the fuzzer (a U8 layout, its frames dropped under Oversize::Skip): kept as
    # it was.
    write("checksum_decode", "varint",
          bytes.fromhex("050000000000000000000103616263010000ff"))
    # kv_request (HandlerInput): step, script, then payloads each after a u16 LE length:
    # protobuf Requests Get(1, "k"), Put(2, "a" = "v"), Delete(3, "a"), then a raw tail.
    get = bytes.fromhex("080112016b")
    put = bytes.fromhex("08021a060a01611201" "76")
    delete = bytes.fromhex("0803220161")
    requests = b"".join(struct.pack("<H", len(r)) + r for r in (get, put, delete))
    write("kv_request", "requests", b"\x00\x00" + requests)
    # Step 3; script: short read of 1, WouldBlock, short read of 2, full read.
    write("kv_request", "requests-faults", b"\x02\x04\x00\x80\x01\xc0" + requests + b"\xff")
    write("kv_request", "not-a-request", b"\x00\x00" + struct.pack("<H", 3) + b"\x08\x00\xff")


if __name__ == "__main__":
    main()
