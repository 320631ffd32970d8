#!/usr/bin/env python3
"""Reference HTTP checker for the pulse benchmark: threads.

A fixed number of threads take targets from a queue.Queue; each probe is
one GET through urllib.request (a fresh connection with Connection: close,
no proxy, at most 5 redirects), the body then searched with re.search.
The timeout bounds each blocking socket operation (the connect, each
read), as urllib's timeout does, not the request as a whole.
"""

import argparse
import collections
import http.client
import json
import os
import queue
import re
import socket
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

MAX_BODY = 1 << 20  # the most body read, as pulse's default max_body
MAX_REDIRECTS = 5  # as pulse's default follow=
UP = "up"


class RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = MAX_REDIRECTS


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


def fetch(opener, url, match, timeout):
    """UP if url answers 2xx with a body that matches, else why not.
    urllib raises HTTPError for any other final status."""
    with opener.open(url, timeout=timeout) as resp:
        # One byte past the limit tells a body at the limit from a longer one.
        body = resp.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        return "body over 1 MiB"
    if match is not None and not match.search(body):
        return "body does not match"
    return UP


def oserror(e):
    if isinstance(e, socket.timeout):
        return "timeout"
    return os.strerror(e.errno) if e.errno else type(e).__name__


def probe(opener, url, match, timeout):
    try:
        return fetch(opener, url, match, timeout)
    except urllib.error.HTTPError as e:
        e.close()
        if e.msg.startswith(RedirectHandler.inf_msg):
            return "too many redirects"
        return f"status {e.code}"
    except urllib.error.URLError as e:
        if isinstance(e.reason, OSError):
            return oserror(e.reason)
        return str(e.reason)
    except OSError as e:
        return oserror(e)
    except (http.client.HTTPException, ValueError) as e:
        return type(e).__name__


def worker(opener, jobs, timeout, results):
    outcomes = collections.Counter()
    while True:
        try:
            url, match = jobs.get_nowait()
        except queue.Empty:
            break
        outcomes[probe(opener, url, match, timeout)] += 1
    results.put(outcomes)


def scan(targets, workers, timeout):
    """Probe every target; return a count of the outcomes."""
    # No proxy: requests go straight to the URL's host, whatever the
    # environment says.  urllib sends Connection: close on every request.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                         RedirectHandler)
    jobs = queue.Queue()
    for t in targets:
        jobs.put(t)
    results = queue.Queue()
    threads = [threading.Thread(target=worker,
                                args=(opener, jobs, timeout, results))
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
        print(f"httpscan_threads: {e}", file=sys.stderr)
        return 2

    start = time.monotonic()
    outcomes = scan(targets, args.workers, args.timeout)
    up = outcomes.pop(UP, 0)
    summary = {"total": len(targets), "up": up, "down": len(targets) - up,
               "seconds": time.monotonic() - start, "errors": outcomes}
    print(json.dumps(summary))
    return 0 if summary["down"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
