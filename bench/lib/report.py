#!/usr/bin/env python3
"""Collect benchmark runs and print the comparison table.

usage: report.py record --tool T --pass time|mem|both --rep R --expect N
                        --targets FILE --measure FILE --output FILE
                        [--scheme tcp|icmp] [--format json|fping]
                        [--timewait N] [--load L] [--fixture-cpu SECS]
                        [--raw-sockets N] [--http-match]
                        [--exporter-cpu SECS]
         prints one JSON line: the measurement plus the counts the tool
         reported and whether the run is sound; a summary line on stderr.
         A pulse document must hold exactly one result per target; so
         must fping's -q summary (--format fping, the OUTPUT is its stderr).
         With --http-match every target has a match=, so every HTTP result
         of a pulse document that succeeded must say its body matched.
         Targets without a scheme are read as --scheme ones (default tcp).
         --exporter-cpu is the CPU time of an exporter the tool ran (part
         of the tool's own): shown apart in the summary line and the table.
       report.py table [--baseline TOOL] [--note TEXT ...] RUNS.jsonl
         prints the table: wall time and CPU are medians over the "time"
         runs, peak PSS the median over the "mem" runs of each tool; a
         "both" run (timed and sampled at once) counts as either.  Each
         --note is printed under the table, then, for a tool that ran an
         exporter, the exporter's share of its CPU time.
"""

import argparse
import collections
import json
import math
import re
import statistics
import sys


def canonical(target, scheme):
    """A target as pulse writes it: with its scheme."""
    return target if "://" in target else f"{scheme}://{target}"


def read_targets(path, scheme="tcp"):
    """The targets of a file, as pulse writes them canonically."""
    with open(path, encoding="utf-8") as f:
        return collections.Counter(
            canonical(line.split()[0], scheme) for line in f
            if line.strip() and not line.startswith("#"))


def target_check(seen, targets):
    """Problems with the targets reported: each exactly once."""
    why = []
    missing = sum((targets - seen).values())
    extra = sum((seen - targets).values())
    if missing:
        why.append(f"{missing} targets without a result")
    if extra:
        why.append(f"{extra} duplicated or unknown results")
    return why


def icmp_inconsistency(r):
    """Why an ICMP result contradicts itself, or None."""
    sent, received = r.get("sent"), r.get("received")
    if not isinstance(sent, int) or not isinstance(received, int):
        return "no sent/received counts"
    if not 0 <= received <= sent:
        return f"received {received} of {sent} sent"
    if r.get("success") is not (received > 0):
        return f"success {r.get('success')} with {received} received"
    # Nothing sent (the probe failed before sending) counts as all lost.
    loss = r.get("loss_ratio")
    expect = 1 - received / sent if sent else 1.0
    if (not isinstance(loss, (int, float))
            or not math.isclose(loss, expect, abs_tol=1e-3)):
        return f"loss_ratio {loss} with {received} of {sent} received"
    rtt = r.get("rtt_seconds")
    if received == 0:
        return None
    if not isinstance(rtt, dict) or not all(
            isinstance(rtt.get(k), (int, float)) for k in
            ("min", "avg", "max")):
        return "no rtt_seconds"
    if not 0 <= rtt["min"] <= rtt["avg"] <= rtt["max"]:
        return f"rtt_seconds out of order: {rtt}"
    return None


def icmp_check(results):
    """Problems with the ICMP results of a document: sent, received, RTT."""
    bad = [(r.get("target"), icmp_inconsistency(r)) for r in results
           if r.get("kind") == "icmp"]
    bad = [(t, why) for t, why in bad if why]
    if not bad:
        return []
    return [f"{len(bad)} inconsistent ICMP results"
            f" (first: {bad[0][0]}: {bad[0][1]})"]


def http_inconsistency(r, need_match):
    """Why an HTTP result contradicts itself, or None."""
    status, matched = r.get("status_code"), r.get("body_matched")
    if status is not None and not isinstance(status, int):
        return f"status_code {status!r}"
    if r.get("success") is not True:
        return None
    if status is None:
        return "success without a status_code"
    if matched is False or (need_match and matched is not True):
        return f"success with body_matched {matched!r}"
    return None


def http_check(results, need_match):
    """Problems with the HTTP results of a document: status, body match."""
    bad = [(r.get("target"), http_inconsistency(r, need_match))
           for r in results if r.get("kind") == "http"]
    bad = [(t, why) for t, why in bad if why]
    if not bad:
        return []
    return [f"{len(bad)} inconsistent HTTP results"
            f" (first: {bad[0][0]}: {bad[0][1]})"]


def describe_down(errors):
    """"down: why N, ..." from a count of errors, the commonest first."""
    top = sorted(errors.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{why} {n}" for why, n in top[:3])
    if len(top) > 3:
        text += ", ..."
    return "down: " + text


def document_check(doc, targets, http_match=False):
    """(total, up, problems) of a pulse document: one result per target."""
    results = doc.get("results")
    if not isinstance(results, list) or not all(
            isinstance(r, dict) for r in results):
        return None, None, ["no results array"]
    why = []
    down = collections.Counter(str(r.get("error")) for r in results
                               if r.get("success") is not True)
    if down:
        why.append(describe_down(down))
    seen = collections.Counter(str(r.get("target")) for r in results)
    why += target_check(seen, targets)
    why += icmp_check(results)
    why += http_check(results, http_match)
    up = sum(1 for r in results if r.get("success") is True)
    counts = doc["counts"]
    if counts.get("total") != len(results) or counts.get("up") != up:
        why.append("counts disagree with the results")
    return len(results), up, why


def peer_field(path, key):
    """A field of a peer's summary, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        return doc.get(key) if isinstance(doc, dict) else None
    except (OSError, ValueError):
        return None


def resets(path):
    """How many targets a peer counted up although they reset at once."""
    return peer_field(path, "reset")


FPING_SUMMARY = re.compile(
    r"^(\S+) +: xmt/rcv/%loss = (\d+)/(\d+)/(\d+)%")


def fping_check(path, targets, scheme):
    """(total, up, problems) from fping -q's per-target summary lines."""
    seen = collections.Counter()
    up, down, other = 0, collections.Counter(), []
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                m = FPING_SUMMARY.match(line)
                if m is None:
                    if line.strip():
                        other.append(line.strip())
                    continue
                seen[canonical(m.group(1), scheme)] += 1
                if int(m.group(3)) > 0:
                    up += 1
                else:
                    down[f"{m.group(2)} sent, none received"] += 1
    except OSError:
        return None, None, ["no fping output"]
    why = [describe_down(down)] if down else []
    why += target_check(seen, targets)
    if other:
        why.append(f"{len(other)} other lines on stderr"
                   f" (first: {other[0][:80]})")
    return sum(seen.values()), up, why


def tool_check(path, targets, http_match=False):
    """(total, up, problems) from a pulse document or a peer summary."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None, None, ["no JSON on stdout"]
    if not isinstance(doc, dict):
        return None, None, ["unexpected JSON on stdout"]
    if isinstance(doc.get("counts"), dict):
        return document_check(doc, targets, http_match)
    why = []
    if isinstance(doc.get("errors"), dict) and doc["errors"]:
        why.append(describe_down(doc["errors"]))
    return doc.get("total"), doc.get("up"), why


def problems(m, total, up, expect):
    """Why a run cannot be trusted, as a list of short phrases."""
    why = []
    if m["timed_out"]:
        why.append("timed out")
    if m["signal"] is not None:
        why.append(f"killed by signal {m['signal']}")
    elif m["exit"] != 0:
        why.append(f"exit {m['exit']}")
    if m["leftover"]:
        why.append(f"{m['leftover']} processes left behind")
    if total != expect:
        why.append(f"reported {total} of {expect} targets")
    if up != expect:
        why.append(f"{up} of {expect} up")
    return why


def summary_line(m):
    """One human line about a run."""
    line = (f"  rep {m['rep']} {m['pass']:4} {m['tool']:8}"
            f" wall {m['wall']:7.3f} s  cpu {m['user'] + m['sys']:6.2f} s")
    if m["peak_pss_kib"] is not None:
        line += (f"  pss {m['peak_pss_kib'] / 1024:6.1f} MiB"
                 f"  procs {m['max_procs']:4}  samples {m['samples']:4}"
                 f"  sampler cpu {m['sampler_cpu']:5.2f} s")
    if m["fixture_cpu"] is not None:
        line += f"  fixture cpu {m['fixture_cpu']:5.2f} s"
    if m.get("raw_sockets") is not None:
        line += f"  raw sockets before {m['raw_sockets']}"
    if m.get("exporter_cpu") is not None:
        line += f"  exporter cpu {m['exporter_cpu']:5.2f} s"
    line += f"  up {m['up']}"
    if m["reset"]:
        line += f" ({m['reset']} reset)"
    if m["problems"]:
        line += "  FLAGGED: " + "; ".join(m["problems"])
    return line


def record(args):
    with open(args.measure, encoding="utf-8") as f:
        m = json.load(f)
    targets = read_targets(args.targets, args.scheme)
    if args.format == "fping":
        total, up, why = fping_check(args.output, targets, args.scheme)
    else:
        total, up, why = tool_check(args.output, targets, args.http_match)
    m.update({"tool": args.tool, "pass": args.pass_, "rep": args.rep,
              "expect": args.expect, "total": total, "up": up,
              "reset": resets(args.output) if args.format == "json"
              else None,
              "timewait": args.timewait,
              "fixture_cpu": args.fixture_cpu, "load": args.load,
              "raw_sockets": args.raw_sockets,
              "exporter_cpu": args.exporter_cpu,
              "driver_seconds": peer_field(args.output, "seconds")
              if args.exporter_cpu is not None else None,
              "problems": why + problems(m, total, up, args.expect)})
    print(json.dumps(m))
    print(summary_line(m), file=sys.stderr)
    return 0


def median_of(runs, key):
    values = [key(r) for r in runs]
    return statistics.median(values) if values else None


def fmt(value, spec):
    return "-" if value is None else format(value, spec)


def tool_row(name, runs, base_wall):
    timed = [r for r in runs if r["pass"] in ("time", "both")]
    sampled = [r for r in runs if r["pass"] in ("mem", "both")]
    wall = median_of(timed, lambda r: r["wall"])
    cpu = median_of(timed, lambda r: r["user"] + r["sys"])
    pss = median_of(sampled, lambda r: r["peak_pss_kib"] / 1024)
    n = runs[0]["expect"]
    return (
        name,
        fmt(wall, ".3f"),
        fmt(n / wall if wall else None, ".0f"),
        fmt(cpu, ".2f"),
        fmt(pss, ".1f"),
        fmt(wall / base_wall if wall and base_wall else None, ".2f"),
        f"{sum(not r['problems'] for r in runs)}/{len(runs)}",
    )


def exporter_note(name, runs):
    """How much of a tool's median CPU time its exporter used, or None."""
    timed = [r for r in runs if r["pass"] in ("time", "both")
             and r.get("exporter_cpu") is not None]
    if not timed:
        return None
    exp = median_of(timed, lambda r: r["exporter_cpu"])
    rest = median_of(timed,
                     lambda r: r["user"] + r["sys"] - r["exporter_cpu"])
    note = (f"{name}: CPU s is the exporter's {exp:.2f} s and the"
            f" {rest:.2f} s of the driver asking it")
    asking = [r for r in timed if isinstance(r.get("driver_seconds"),
                                             (int, float))]
    if asking:
        note += (f"; wall s includes the exporter's start and stop, the"
                 f" asking took"
                 f" {median_of(asking, lambda r: r['driver_seconds']):.3f} s")
    return note + " (medians)"


def table(args):
    tools = {}
    with open(args.runs, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                tools.setdefault(r["tool"], []).append(r)
    if not tools:
        print("no runs", file=sys.stderr)
        return 1
    base = args.baseline if args.baseline in tools else next(iter(tools))
    base_wall = median_of([r for r in tools[base]
                           if r["pass"] in ("time", "both")],
                          lambda r: r["wall"])

    head = ("tool", "wall s", "probes/s", "CPU s", "peak PSS MiB",
            f"wall/{base}", "sound runs")
    rows = [tool_row(name, runs, base_wall) for name, runs in tools.items()]
    widths = [max(len(c) for c in col) for col in zip(head, *rows)]
    for i, row in enumerate([head] + rows):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    for note in args.note:
        print(note)
    for name, runs in tools.items():
        note = exporter_note(name, runs)
        if note:
            print(note)

    flagged = [r for runs in tools.values() for r in runs if r["problems"]]
    if flagged:
        print("\nFLAGGED runs (results lost or run unsound):")
        for r in flagged:
            print(f"  {r['tool']} rep {r['rep']} ({r['pass']} pass): "
                  + "; ".join(r["problems"]))
    return 1 if flagged else 0


def main():
    ap = argparse.ArgumentParser(description="benchmark runs and table")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--tool", required=True)
    rec.add_argument("--pass", dest="pass_",
                     choices=("time", "mem", "both"), required=True)
    rec.add_argument("--rep", type=int, required=True)
    rec.add_argument("--expect", type=int, required=True)
    rec.add_argument("--targets", required=True)
    rec.add_argument("--measure", required=True)
    rec.add_argument("--output", required=True)
    rec.add_argument("--scheme", choices=("tcp", "icmp"), default="tcp")
    rec.add_argument("--format", choices=("json", "fping"), default="json")
    rec.add_argument("--timewait", type=int)
    rec.add_argument("--fixture-cpu", type=float)
    rec.add_argument("--load", type=float)
    rec.add_argument("--raw-sockets", type=int)
    rec.add_argument("--http-match", action="store_true")
    rec.add_argument("--exporter-cpu", type=float)
    tab = sub.add_parser("table")
    tab.add_argument("--baseline", default="pulse")
    tab.add_argument("--note", action="append", default=[])
    tab.add_argument("runs")
    args = ap.parse_args()
    return record(args) if args.cmd == "record" else table(args)


if __name__ == "__main__":
    sys.exit(main())
