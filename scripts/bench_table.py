#!/usr/bin/env python3
"""Prints one table of every benchmark's figures against its target, from target/bench/*.json (each
bench writes "rows": [{name, ratio | value, target}]), and writes target/bench/summary.{md,json}."""
import glob
import json
import os
import re
import sys

out_dir = sys.argv[1] if len(sys.argv) > 1 else "target/bench"
ORDER = ["id_photo", "cases_read", "moves_create", "scale", "app"]


def met(value, target):
    if str(target).strip() == "true":
        return "met" if value is True else "NOT met"
    m = re.match(r"\s*(<=|>=)\s*([0-9.]+)", str(target))
    if value is None or not m:
        return "n/a"
    limit = float(m.group(2))
    ok = value <= limit if m.group(1) == "<=" else value >= limit
    return "met" if ok else "NOT met"


rows = []
files = sorted(glob.glob(os.path.join(out_dir, "*.json")),
               key=lambda f: ORDER.index(os.path.basename(f)[:-5]) if os.path.basename(f)[:-5] in ORDER else 99)
for path in files:
    if os.path.basename(path) == "summary.json":
        continue
    with open(path) as f:
        data = json.load(f)
    for row in data.get("rows", []):
        is_ratio = "ratio" in row
        value = row.get("ratio") if is_ratio else row.get("value")
        if value is None:
            shown = "n/a"
        elif isinstance(value, bool):
            shown = "yes" if value else "no"
        elif is_ratio:
            shown = f"{value:.2f}×"
        else:
            shown = f"{value:.1f}" if isinstance(value, float) else str(value)
        rows.append({"bench": data.get("bench", os.path.basename(path)), "name": row["name"], "value": value,
                     "shown": shown, "target": row["target"], "verdict": met(value, row["target"])})

md = "| benchmark | measure | value | target | |\n|---|---|---:|---|---|\n"
for r in rows:
    md += f"| {r['bench']} | {r['name']} | {r['shown']} | {r['target'].replace('<=', '≤').replace('>=', '≥')} | {r['verdict']} |\n"
print(md)
with open(os.path.join(out_dir, "summary.md"), "w") as f:
    f.write(md)
with open(os.path.join(out_dir, "summary.json"), "w") as f:
    json.dump(rows, f, indent=2, ensure_ascii=False)
