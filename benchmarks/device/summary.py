"""Print the mean dev MAP per variant and epoch from a tune output directory (finished students only)."""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

root = Path(sys.argv[1])
table: dict[str, dict[int, list[float]]] = defaultdict(lambda: defaultdict(list))
secs: dict[str, list[float]] = defaultdict(list)
for f in sorted(root.glob("select/*/*/optical_ir-distill.json")):
    info = json.loads(f.read_text())
    for h in info["history"]:
        table[f.parent.parent.name][h["epoch"]].append(h["val_AP"])
        secs[f.parent.parent.name].append(h["pairs_per_second"])
for variant, epochs in table.items():
    cells = " ".join(f"{e}:{sum(v) / len(v):.4f}({len(v)})" for e, v in sorted(epochs.items()))
    print(f"{variant:24s} {cells}  pairs/s {sum(secs[variant]) / len(secs[variant]):.0f}")
