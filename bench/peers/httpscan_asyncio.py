#!/usr/bin/env python3
"""Reference HTTP checker for the pulse benchmark: asyncio and aiohttp.

One task per target, at most --workers of them at work at once (an
asyncio.Semaphore); each probe is one GET on a fresh connection (a
TCPConnector with force_close) under a per-request aiohttp timeout, the
body then searched with re.search.  Needs aiohttp (Debian:
apt-get install -y python3-aiohttp).
"""

import argparse
import asyncio
import collections
import json
import os
import re
import sys
import time
import urllib.parse

try:
    import aiohttp
except ImportError:
    aiohttp = None

MAX_BODY = 1 << 20  # the most body read, as pulse's default max_body
MAX_REDIRECTS = 5  # as pulse's default follow=
CHUNK = 64 * 1024
UP = "up"


def unquote(value):
    """value without one pair of matching quotes around it."""
    if len(value) >= 2 and value[0] in "'\"" and value[-1] == value[0]:
        return value[1:-1]
    return value


def parse_line(fields, cache):
    """(url, compiled pattern or None) from "URL [match=REGEX]"."""
    url = fields[0]
    u = urllib.parse.urlsplit(url)
    if u.scheme != "http" or not u.netloc:
        raise ValueError("expected an http:// URL")
    match = None
    for f in fields[1:]:
        key, sep, value = f.partition("=")
        if not sep or key != "match":
            raise ValueError(f"unsupported option {f!r}")
        value = unquote(value)
        # Targets share a few patterns: compile each once.
        if value not in cache:
            cache[value] = re.compile(value.encode())
        match = cache[value]
    return url, match


def read_targets(path):
    """(url, pattern) pairs: one target per line, '#' comments skipped."""
    targets, cache = [], {}
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            fields = line.split()
            if not fields or fields[0].startswith("#"):
                continue
            try:
                targets.append(parse_line(fields, cache))
            except (ValueError, re.error) as e:
                raise ValueError(f"{path}:{n}: {e}") from None
    if not targets:
        raise ValueError(f"{path}: no targets")
    return targets


async def read_body(resp):
    """The body, or None once it grows past MAX_BODY."""
    body = bytearray()
    async for chunk in resp.content.iter_chunked(CHUNK):
        body += chunk
        if len(body) > MAX_BODY:
            return None
    return bytes(body)


async def fetch(session, url, match, timeout):
    """UP if url answers 2xx with a body that matches, else why not."""
    async with session.get(url, timeout=timeout,
                           max_redirects=MAX_REDIRECTS) as resp:
        body = await read_body(resp)
        if body is None:
            return "body over 1 MiB"
        if not 200 <= resp.status <= 299:
            return f"status {resp.status}"
    if match is not None and not match.search(body):
        return "body does not match"
    return UP


async def probe(session, sem, url, match, timeout):
    async with sem:
        try:
            return await fetch(session, url, match, timeout)
        except asyncio.TimeoutError:
            return "timeout"
        except aiohttp.ClientConnectorError as e:
            errno = e.os_error.errno
            return os.strerror(errno) if errno else type(e).__name__
        except (aiohttp.ClientError, OSError) as e:
            return type(e).__name__


async def scan(targets, workers, seconds):
    """Probe every target; return a count of the outcomes."""
    sem = asyncio.Semaphore(workers)
    timeout = aiohttp.ClientTimeout(total=seconds)
    connector = aiohttp.TCPConnector(force_close=True, limit=workers)
    async with aiohttp.ClientSession(connector=connector) as session:
        outcomes = await asyncio.gather(
            *(probe(session, sem, url, match, timeout)
              for url, match in targets))
    return collections.Counter(outcomes)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--targets", required=True)
    ap.add_argument("--workers", type=int, default=64)
    ap.add_argument("--timeout", type=float, default=5.0)
    args = ap.parse_args()
    if args.workers < 1 or args.timeout <= 0:
        ap.error("--workers and --timeout must be positive")
    if aiohttp is None:
        print("httpscan_asyncio: needs aiohttp, which this Python"
              f" ({sys.executable}) lacks; on Debian:"
              " apt-get install -y python3-aiohttp", file=sys.stderr)
        return 2
    try:
        targets = read_targets(args.targets)
    except (OSError, ValueError) as e:
        print(f"httpscan_asyncio: {e}", file=sys.stderr)
        return 2

    start = time.monotonic()
    outcomes = asyncio.run(scan(targets, args.workers, args.timeout))
    up = outcomes.pop(UP, 0)
    summary = {"total": len(targets), "up": up, "down": len(targets) - up,
               "seconds": time.monotonic() - start, "errors": outcomes}
    print(json.dumps(summary))
    return 0 if summary["down"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
