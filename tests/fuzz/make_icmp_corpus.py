#!/usr/bin/env python3
"""Write the seed corpus for fuzz_icmp_parse: one datagram per file.

The identifier, sequence numbers, cookie and loopback targets match the
expectations in fuzz_icmp_parse.c, so every seed reaches an accepting
path of the parser.  Usage: make_icmp_corpus.py [DIR]
"""
import os
import struct
import sys

IDENT = 0x1234
SEQ = 101
COOKIE = b"PULSEFZ!"
LO4 = bytes([127, 0, 0, 1])
ROUTER4 = bytes([127, 0, 0, 254])
LO6 = bytes(15) + b"\x01"


def cksum(data):
    """RFC 1071 Internet checksum."""
    if len(data) % 2:
        data += b"\x00"
    s = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def icmp(mtype, code, rest, body, checksum=True):
    """An ICMP message; rest is the 4 bytes after the checksum."""
    msg = struct.pack("!BBH", mtype, code, 0) + rest + body
    if checksum:
        msg = msg[:2] + struct.pack("!H", cksum(msg)) + msg[4:]
    return msg


def echo(mtype, seq=SEQ, fill=16, checksum=True):
    return icmp(mtype, 0, struct.pack("!HH", IDENT, seq),
                COOKIE + bytes(range(fill)), checksum)


def ip4(src, dst, payload, options=b"", ttl=64, proto=1):
    """An IPv4 header (options padded with NOPs) before payload."""
    options += b"\x01" * (-len(options) % 4)
    ihl = 5 + len(options) // 4
    hdr = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, 4 * ihl + len(payload),
                      0, 0, ttl, proto, 0, src, dst) + options
    return hdr + payload


def ip6(src, dst, payload, nh=58):
    return struct.pack("!IHBB16s16s", 0x60000000, len(payload), nh, 64,
                       src, dst) + payload


def seeds():
    request4 = ip4(LO4, LO4, echo(8), ttl=1)
    request6 = ip6(LO6, LO6, echo(128, checksum=False))
    return {
        "v4_reply_raw": ip4(LO4, LO4, echo(0)),
        "v4_reply_options": ip4(LO4, LO4, echo(0),
                                options=b"\x07\x07\x04" + bytes(4)),
        "v4_reply_dgram": echo(0, fill=40),
        "v6_reply": echo(129, checksum=False),
        "v4_port_unreach_raw":
            ip4(ROUTER4, LO4, icmp(3, 3, bytes(4), request4)),
        "v4_time_exceeded_raw":
            ip4(ROUTER4, LO4, icmp(11, 0, bytes(4), request4[:28])),
        "v6_port_unreach": icmp(1, 4, bytes(4), request6, checksum=False),
        "v6_packet_too_big":
            icmp(2, 0, struct.pack("!I", 1280), request6, checksum=False),
    }


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else \
        os.path.join(here, "corpus", "icmp_parse")
    os.makedirs(out, exist_ok=True)
    for name, data in sorted(seeds().items()):
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
