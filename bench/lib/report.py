#!/usr/bin/env python3
"""Collect benchmark runs and print the comparison table.

usage: report.py record --tool T --rep R --expect N --targets FILE
                        --measure FILE --output FILE [--timewait N]
         prints one JSON line: the measurement plus the counts the tool
         reported and whether the run is sound; a summary line on stderr.  A pulse document must
         hold exactly one result per target of the targets file.
       report.py table [--baseline TOOL] RUNS.jsonl
         prints the table: medians over the runs of each tool.
"""

import argparse
import json
import statistics
import sys


def read_targets(path):
    """The targets of a file, as pulse writes them canonically."""
    with open(path, encoding="utf-8") as f:
        return sorted("tcp://" + line.split()[0] for line in f
                      if line.strip() and not line.startswith("#"))


def document_counts(doc, targets):
    """(total, up) of a pulse document; one result per target or None."""
    results = doc.get("results")
    if not isinstance(results, list) or not all(
            isinstance(r, dict) for r in results):
        return None
    if sorted(str(r.get("target")) for r in results) != targets:
        return None
    up = sum(1 for r in results if r.get("success") is True)
    if up != doc["counts"].get("up") or \
            len(results) != doc["counts"].get("total"):
        return None
    return len(results), up


def tool_counts(path, targets):
    """(total, up) from a pulse document or a peer summary, or None."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict):
        return None
    if isinstance(doc.get("counts"), dict):
        return document_counts(doc, targets)
    return doc.get("total"), doc.get("up")


def problems(m, counts, expect):
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
    if counts is None:
        why.append("no readable result (or not one result per target)")
    else:
        total, up = counts
        if total != expect:
            why.append(f"reported {total} of {expect} targets")
        if up != expect:
            why.append(f"{up} of {expect} up")
    return why


def record(args):
    with open(args.measure, encoding="utf-8") as f:
        m = json.load(f)
    counts = tool_counts(args.output, read_targets(args.targets))
    m.update(tool=args.tool, rep=args.rep, expect=args.expect,
             total=counts[0] if counts else None,
             up=counts[1] if counts else None,
             timewait=args.timewait,
             problems=problems(m, counts, args.expect))
    print(json.dumps(m))
    print(f"  rep {m['rep']} {m['tool']:8} wall {m['wall']:7.3f} s"
          f"  cpu {m['user'] + m['sys']:6.2f} s"
          f"  pss {m['peak_pss_kib'] / 1024:6.1f} MiB"
          f"  procs {m['max_procs']:4}  up {m['up']}"
          + ("  FLAGGED: " + "; ".join(m["problems"]) if m["problems"]
             else ""), file=sys.stderr)
    return 0


def median(runs, key):
    return statistics.median(key(r) for r in runs)


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
    base_wall = median(tools[base], lambda r: r["wall"])

    head = ("tool", "wall s", "probes/s", "CPU s", "peak PSS MiB",
            f"wall/{base}", "sound runs")
    rows = []
    for name, runs in tools.items():
        wall = median(runs, lambda r: r["wall"])
        n = runs[0]["expect"]
        rows.append((
            name,
            f"{wall:.3f}",
            f"{n / wall:.0f}",
            f"{median(runs, lambda r: r['user'] + r['sys']):.2f}",
            f"{median(runs, lambda r: r['peak_pss_kib']) / 1024:.1f}",
            f"{wall / base_wall:.2f}",
            f"{sum(not r['problems'] for r in runs)}/{len(runs)}",
        ))
    widths = [max(len(c) for c in col) for col in zip(head, *rows)]
    for i, row in enumerate([head] + rows):
        print("  ".join(c.ljust(w) if j == 0 else c.rjust(w)
                        for j, (c, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))

    flagged = [r for runs in tools.values() for r in runs if r["problems"]]
    if flagged:
        print("\nFLAGGED runs (results lost or run unsound):")
        for r in flagged:
            print(f"  {r['tool']} rep {r['rep']}: {'; '.join(r['problems'])}")
    return 1 if flagged else 0


def main():
    ap = argparse.ArgumentParser(description="benchmark runs and table")
    sub = ap.add_subparsers(dest="cmd", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--tool", required=True)
    rec.add_argument("--rep", type=int, required=True)
    rec.add_argument("--expect", type=int, required=True)
    rec.add_argument("--measure", required=True)
    rec.add_argument("--output", required=True)
    rec.add_argument("--targets", required=True)
    rec.add_argument("--timewait", type=int)
    tab = sub.add_parser("table")
    tab.add_argument("--baseline", default="pulse")
    tab.add_argument("runs")
    args = ap.parse_args()
    return record(args) if args.cmd == "record" else table(args)


if __name__ == "__main__":
    sys.exit(main())
