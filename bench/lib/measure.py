#!/usr/bin/env python3
"""Run one command and measure its whole process tree.

usage: measure.py [--timeout SECS] [--interval SECS] --stdout FILE
                  --stderr FILE -- COMMAND [ARG ...]

Reading smaps_rollup walks a process's page tables, which costs tens to
hundreds of microseconds per process; with --interval 0 nothing is sampled
(for runs that time the command undisturbed).

Prints one JSON object on stdout:
  wall          seconds from spawn until the command's own process exited
  user, sys     CPU seconds of the command and every descendant reaped
                (getrusage(RUSAGE_CHILDREN); this process is a child
                subreaper, so orphaned descendants are reaped here too)
  peak_pss_kib  the largest sum, over one sample, of Pss from
                /proc/PID/smaps_rollup of the command and all its
                descendants, sampled every --interval seconds (null if 0)
  samples       number of samples taken
  sampler_cpu   CPU seconds this process spent (start-up and sampling)
  max_procs     the most processes seen in one sample
  exit          exit status, or null if killed by a signal
  signal        the signal that ended it, or null
  timed_out     true if it ran past --timeout and was killed
  leftover      descendants still alive a second after the command exited
                (then killed)
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


def settle_tree(me, state, secs):
    """Reap descendants for up to secs; return how many are still alive."""
    deadline = time.monotonic() + secs
    while True:
        reap(state)
        alive = len(descendants(me))
        if alive == 0 or time.monotonic() >= deadline:
            return alive
        time.sleep(0.01)


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

    # This process may have inherited reaped children's time through exec.
    base = resource.getrusage(resource.RUSAGE_CHILDREN)
    state = {"end": None, "status": None}
    start = time.monotonic()
    try:
        state["pid"] = spawn(args.command, args.stdout, args.stderr)
    except OSError as e:
        sys.exit(f"measure: {args.command[0]}: {e.strerror}")
    pidfd = os.pidfd_open(state["pid"])
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)

    peak = samples = max_procs = 0
    timed_out = False
    me = os.getpid()
    wait_ms = args.interval * 1000 if args.interval > 0 else 100
    while state["end"] is None:
        if args.interval > 0:
            procs = descendants(me)
            peak = max(peak, sum(pss_kib(p) for p in procs))
            max_procs = max(max_procs, len(procs))
            samples += 1
        if stop or time.monotonic() - start > args.timeout:
            timed_out = not stop
            kill_tree(state)
        # Wakes at once when the command exits, so wall time is exact.
        poller.poll(wait_ms)
        reap(state)
    os.close(pidfd)

    # Descendants get a second to finish exiting; later ones are leftovers.
    leftover = settle_tree(me, state, 1.0)
    if leftover:
        kill_tree(state)
        settle_tree(me, state, 5.0)

    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    me_ru = resource.getrusage(resource.RUSAGE_SELF)
    status = state["status"]
    result = {
        "wall": round(state["end"] - start, 6),
        "user": round(ru.ru_utime - base.ru_utime, 6),
        "sys": round(ru.ru_stime - base.ru_stime, 6),
        "peak_pss_kib": peak if args.interval > 0 else None,
        "samples": samples,
        "sampler_cpu": round(me_ru.ru_utime + me_ru.ru_stime, 3),
        "max_procs": max_procs if args.interval > 0 else None,
        "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
        "timed_out": timed_out,
        "leftover": leftover,
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
