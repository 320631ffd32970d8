#!/usr/bin/env python3
"""Reference TCP connect scanner for the pulse benchmark: threads.

A fixed number of threads take targets from a queue.Queue; each probe is
socket.create_connection() with a timeout, closed as soon as the handshake
completes.
"""

import argparse
import collections
import json
import os
import queue
import socket
import sys
import threading
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


def probe(host, port, timeout):
    """UP, UP_RESET (accepted, then reset at once: a reset only reaches an
    established connection, so the handshake did complete), or why not."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
    except ConnectionResetError:
        return UP_RESET
    except TimeoutError:
        return "timeout"
    except OSError as e:
        return os.strerror(e.errno) if e.errno else type(e).__name__
    return UP


def worker(jobs, timeout, results):
    outcomes = collections.Counter()
    while True:
        try:
            host, port = jobs.get_nowait()
        except queue.Empty:
            break
        outcomes[probe(host, port, timeout)] += 1
    results.put(outcomes)


def scan(targets, workers, timeout):
    """Probe every target; return a count of the outcomes."""
    jobs = queue.Queue()
    for t in targets:
        jobs.put(t)
    results = queue.Queue()
    threads = [threading.Thread(target=worker, args=(jobs, timeout, results))
               for _ in range(min(workers, len(targets)))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum((results.get() for _ in threads), collections.Counter())


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
        print(f"tcpscan_threads: {e}", file=sys.stderr)
        return 2

    start = time.monotonic()
    outcomes = scan(targets, args.workers, args.timeout)
    reset = outcomes.pop(UP_RESET, 0)
    up = outcomes.pop(UP, 0) + reset
    summary = {"total": len(targets), "up": up, "down": len(targets) - up,
               "seconds": time.monotonic() - start, "reset": reset,
               "errors": outcomes}
    print(json.dumps(summary))
    return 0 if summary["down"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
