#!/usr/bin/env python3
"""Cost against directory size, from criterion's output.

Reads the mean estimates criterion left in target/criterion for the `directory` and
`sql_stores` benches (groups `memory/N`, `duplicates/N`, `sqlite/N`, `postgres/N`), writes
them to benches/results.csv, and draws benches/cost_vs_size.svg from that file by hand (no
packages beyond the standard library). With `--from-csv` it redraws from the committed CSV.

    python3 benches/chart.py             # after the benches ran
    python3 benches/chart.py --from-csv  # redraw only
"""

import csv
import json
import math
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
CRITERION = os.path.join(HERE, "..", "target", "criterion")
CSV = os.path.join(HERE, "results.csv")
SVG = os.path.join(HERE, "cost_vs_size.svg")

# (group prefix, bench id, label, colour, dashed)
SERIES = [
    ("memory", "match/MemoryStore", "match: MemoryStore", "#1f77b4", False),
    ("memory", "match/MemoryStore-id", "match: MemoryStore id only", "#17becf", False),
    ("memory", "match/floor", "match: floor (HashMap)", "#1f77b4", True),
    ("memory", "record/existing", "record_booking: existing (memory)", "#d62728", False),
    ("memory", "record/new", "record_booking: new (memory)", "#ff7f0e", False),
    ("memory", "record/related", "record_booking: related (memory)", "#9467bd", False),
    ("memory", "record/floor", "record floor (parse + map + Vec)", "#d62728", True),
    ("sqlite", "record/existing", "record_booking: existing (SQLite)", "#2ca02c", False),
    ("postgres", "record/existing", "record_booking: existing (PostgreSQL, 1 task)", "#8c564b", False),
    ("postgres", "record/existing-8-tasks", "record_booking: existing (PostgreSQL, 8 tasks)", "#8c564b", True),
    ("duplicates", "find_duplicates", "find_duplicates, per profile", "#7f7f7f", False),
]


def collect():
    rows = []
    if not os.path.isdir(CRITERION):
        sys.exit("no target/criterion: run the benches first, or pass --from-csv")
    for entry in sorted(os.listdir(CRITERION)):
        prefix, _, size = entry.rpartition("_")
        if prefix not in {"memory", "duplicates", "sqlite", "postgres"} or not size.isdigit():
            continue
        for _, bench, *_ in [s for s in SERIES if s[0] == prefix]:
            path = os.path.join(CRITERION, entry, bench.replace("/", "_"), "new", "estimates.json")
            if not os.path.exists(path):
                continue
            with open(path) as f:
                mean = json.load(f)["mean"]["point_estimate"]
            ns = mean / int(size) if prefix == "duplicates" else mean
            rows.append({"group": prefix, "bench": bench, "size": int(size), "ns_per_op": f"{ns:.1f}"})
    with open(CSV, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["group", "bench", "size", "ns_per_op"])
        writer.writeheader()
        writer.writerows(rows)
    return rows


def read_csv():
    with open(CSV) as f:
        return list(csv.DictReader(f))


def draw(rows):
    width, height = 900, 560
    left, right, top, bottom = 80, 330, 40, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    points = {}
    for row in rows:
        points.setdefault((row["group"], row["bench"]), []).append(
            (int(row["size"]), float(row["ns_per_op"]))
        )
    sizes = sorted({int(r["size"]) for r in rows})
    values = [float(r["ns_per_op"]) for r in rows]
    x_lo, x_hi = math.log10(min(sizes)), math.log10(max(sizes))
    if x_hi == x_lo:
        x_hi += 1
    y_lo = math.floor(math.log10(min(values)))
    y_hi = math.ceil(math.log10(max(values)))

    def x(size):
        return left + (math.log10(size) - x_lo) / (x_hi - x_lo) * plot_w

    def y(ns):
        return top + (y_hi - math.log10(ns)) / (y_hi - y_lo) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
        f'<text x="{left}" y="24" font-size="15" font-weight="bold">'
        "Cost per operation against directory size (log-log; lower is better)</text>",
    ]
    for decade in range(y_lo, y_hi + 1):
        yy = y(10**decade)
        label = human_ns(10**decade)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + plot_w}" y2="{yy:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{left - 8}" y="{yy + 4:.1f}" text-anchor="end">{label}</text>')
    for size in sizes:
        xx = x(size)
        out.append(f'<line x1="{xx:.1f}" y1="{top}" x2="{xx:.1f}" y2="{top + plot_h}" stroke="#ddd"/>')
        out.append(f'<text x="{xx:.1f}" y="{top + plot_h + 18}" text-anchor="middle">{size:,}</text>')
    out.append(
        f'<text x="{left + plot_w / 2}" y="{height - 16}" text-anchor="middle">'
        "profiles in the directory</text>"
    )
    out.append(
        f'<text x="18" y="{top + plot_h / 2}" text-anchor="middle" '
        f'transform="rotate(-90 18 {top + plot_h / 2})">time per operation</text>'
    )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>'
    )
    legend_y = top + 6
    for group, bench, label, colour, dashed in SERIES:
        pts = sorted(points.get((group, bench), []))
        if not pts:
            continue
        dash = ' stroke-dasharray="6 4"' if dashed else ""
        path = " ".join(f"{x(s):.1f},{y(v):.1f}" for s, v in pts)
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for s, v in pts:
            out.append(f'<circle cx="{x(s):.1f}" cy="{y(v):.1f}" r="3" fill="{colour}"/>')
        lx = left + plot_w + 16
        out.append(
            f'<line x1="{lx}" y1="{legend_y + 8}" x2="{lx + 24}" y2="{legend_y + 8}" '
            f'stroke="{colour}" stroke-width="2"{dash}/>'
        )
        out.append(f'<text x="{lx + 30}" y="{legend_y + 12}">{label}</text>')
        legend_y += 20
    out.append("</svg>")
    with open(SVG, "w") as f:
        f.write("\n".join(out) + "\n")


def human_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:g} {unit}"
    return f"{ns:g} ns"


if __name__ == "__main__":
    rows = read_csv() if "--from-csv" in sys.argv else collect()
    draw(rows)
    for row in rows:
        print(f'{row["group"]}/{row["size"]} {row["bench"]}: {float(row["ns_per_op"]):,.1f} ns')
