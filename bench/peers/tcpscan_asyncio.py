#!/usr/bin/env python3
"""Reference TCP connect scanner for the pulse benchmark: asyncio.

A fixed number of worker tasks take targets from an asyncio.Queue; each
probe is asyncio.open_connection() under asyncio.wait_for() and the
connection is closed as soon as the handshake completes.
"""

import argparse
import asyncio
import collections
import json
import os
import sys
import time

UP, UP_RESET = "up", "reset"


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
    """UP, UP_RESET (accepted, then reset at once: a reset only reaches an
    established connection, so the handshake did complete), or why not."""
    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(host, port), timeout)
    except ConnectionResetError:
        return UP_RESET
    except (TimeoutError, asyncio.TimeoutError):
        return "timeout"
    except OSError as e:
        return os.strerror(e.errno) if e.errno else type(e).__name__
    writer.close()
    try:
        await writer.wait_closed()
    except OSError:
        pass
    return UP


async def worker(queue, timeout, outcomes):
    while True:
        try:
            host, port = queue.get_nowait()
        except asyncio.QueueEmpty:
            return
        outcomes[await probe(host, port, timeout)] += 1


async def scan(targets, workers, timeout):
    """Probe every target; return a count of the outcomes."""
    queue = asyncio.Queue()
    for t in targets:
        queue.put_nowait(t)
    outcomes = collections.Counter()
    await asyncio.gather(*(worker(queue, timeout, outcomes)
                           for _ in range(min(workers, len(targets)))))
    return outcomes


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
    outcomes = asyncio.run(scan(targets, args.workers, args.timeout))
    reset = outcomes.pop(UP_RESET, 0)
    up = outcomes.pop(UP, 0) + reset
    summary = {"total": len(targets), "up": up, "down": len(targets) - up,
               "seconds": time.monotonic() - start, "reset": reset,
               "errors": outcomes}
    print(json.dumps(summary))
    return 0 if summary["down"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
