#!/usr/bin/env python3
"""Run one command and measure its whole process tree.

usage: measure.py [--timeout SECS] [--interval SECS] --stdout FILE
                  --stderr FILE -- COMMAND [ARG ...]

Prints one JSON object on stdout:
  wall          seconds from spawn until the command's own process exited
  user, sys     CPU seconds of the command and every descendant reaped
                (getrusage(RUSAGE_CHILDREN); this process is a child
                subreaper, so orphaned descendants are reaped here too)
  peak_pss_kib  the largest sum, over one sample, of Pss from
                /proc/PID/smaps_rollup of the command and all its
                descendants, sampled every --interval seconds
  samples       number of samples taken
  max_procs     the most processes seen in one sample
  exit          exit status, or null if killed by a signal
  signal        the signal that ended it, or null
  timed_out     true if it ran past --timeout and was killed
  leftover      descendants still alive after the command exited (killed)
"""

import argparse
import ctypes
import json
import os
import resource
import select
import signal
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def children(pid):
    """Direct children of pid, over all of its threads."""
    kids = []
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return kids
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                kids.extend(int(k) for k in f.read().split())
        except OSError:
            pass
    return kids


def descendants(root):
    """Every live descendant of root (root excluded)."""
    found, todo = [], children(root)
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children(pid))
    return found


def pss_kib(pid):
    """Pss of one process in KiB, 0 if it is gone or a zombie."""
    try:
        with open(f"/proc/{pid}/smaps_rollup", "rb") as f:
            for line in f:
                if line.startswith(b"Pss:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def reap(state):
    """Reap every child that has exited; note the command's own status."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        if pid == state["pid"]:
            state["end"] = time.monotonic()
            state["status"] = status


def spawn(argv, out, err):
    """Start argv in a new session with stdout/stderr sent to files."""
    actions = [
        (os.POSIX_SPAWN_OPEN, 0, "/dev/null", os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
         0o644),
        (os.POSIX_SPAWN_OPEN, 2, err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC,
         0o644),
    ]
    path = argv[0]
    if os.sep not in path:
        for d in os.environ.get("PATH", "").split(os.pathsep):
            if os.access(os.path.join(d, path), os.X_OK):
                path = os.path.join(d, path)
                break
    return os.posix_spawn(path, argv, os.environ, file_actions=actions,
                          setsid=True)


def kill_tree(state):
    """SIGKILL the command's session and any descendant outside it."""
    try:
        os.killpg(state["pid"], signal.SIGKILL)
    except OSError:
        pass
    for pid in descendants(os.getpid()):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


def run(args):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        sys.exit("measure: prctl(PR_SET_CHILD_SUBREAPER) failed")
    stop = []
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, f: stop.append(s))

    state = {"end": None, "status": None}
    start = time.monotonic()
    state["pid"] = spawn(args.command, args.stdout, args.stderr)
    pidfd = os.pidfd_open(state["pid"])
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)

    peak = samples = max_procs = 0
    timed_out = False
    me = os.getpid()
    while state["end"] is None:
        procs = descendants(me)
        peak = max(peak, sum(pss_kib(p) for p in procs))
        max_procs = max(max_procs, len(procs))
        samples += 1
        if stop or time.monotonic() - start > args.timeout:
            timed_out = not stop
            kill_tree(state)
        # Wakes at once when the command exits, so wall time is exact.
        poller.poll(args.interval * 1000)
        reap(state)
    os.close(pidfd)

    leftover = descendants(me)
    if leftover:
        kill_tree(state)
    deadline = time.monotonic() + 5
    while descendants(me) and time.monotonic() < deadline:
        time.sleep(0.01)
        reap(state)
    reap(state)

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    status = state["status"]
    result = {
        "wall": round(state["end"] - start, 6),
        "user": ru.ru_utime,
        "sys": ru.ru_stime,
        "peak_pss_kib": peak,
        "samples": samples,
        "max_procs": max_procs,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out,
        "leftover": len(leftover),
    }
    print(json.dumps(result))
    return 130 if stop else 0


def main():
    ap = argparse.ArgumentParser(
        description="Run a command; report wall, CPU and peak PSS sum.")
    ap.add_argument("--timeout", type=float, default=300.0)
    ap.add_argument("--interval", type=float, default=0.02)
    ap.add_argument("--stdout", required=True)
    ap.add_argument("--stderr", required=True)
    ap.add_argument("command", nargs="+")
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
