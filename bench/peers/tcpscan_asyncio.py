#!/usr/bin/env python3
"""Reference TCP connect scanner for the pulse benchmark: asyncio.

A fixed number of worker tasks take targets from an asyncio.Queue; each
probe is asyncio.open_connection() under asyncio.wait_for() and the
connection is closed as soon as the handshake completes.
"""

import argparse
import asyncio
import json
import sys
import time


def read_targets(path):
    """Return (host, port) pairs: one host:port per line, '#' comments."""
    targets = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            fields = line.split("#", 1)[0].split()
            if not fields:
                continue
            t = fields[0].removeprefix("tcp://")
            host, sep, port = t.rpartition(":")
            if not sep or not host or not port.isdigit():
                raise ValueError(f"{path}:{n}: expected host:port")
            targets.append((host.strip("[]"), int(port)))
    if not targets:
        raise ValueError(f"{path}: no targets")
    return targets


async def probe(host, port, timeout):
    """Return True if a TCP handshake with host:port completes in time."""
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return True


async def worker(queue, timeout, counts):
    while True:
        try:
            host, port = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        if await probe(host, port, timeout):
            counts["up"] += 1


async def scan(targets, workers, timeout):
    queue = asyncio.Queue()
    for t in targets:
        queue.put_nowait(t)
    counts = {"up": 0}
    await asyncio.gather(*(worker(queue, timeout, counts)
                           for _ in range(min(workers, len(targets)))))
    return counts["up"]


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", required=True)
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()
    if args.workers < 1 or args.timeout <= 0:
        ap.error("--workers and --timeout must be positive")
    try:
        targets = read_targets(args.targets)
    except (OSError, ValueError) as e:
        print(f"tcpscan_asyncio: {e}", file=sys.stderr)
        return 2

    start = time.monotonic()
    up = asyncio.run(scan(targets, args.workers, args.timeout))
    summary = {"total": len(targets), "up": up, "down": len(targets) - up,
               "seconds": time.monotonic() - start}
    print(json.dumps(summary))
    return 0 if summary["down"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
