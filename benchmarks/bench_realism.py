"""The demo's realism figures against ../shared/realdata, and the generation speed.

Run: ``.venv/bin/python benchmarks/bench_realism.py [--seed N] [--dir DATASET ...]``.
Without ``--dir`` it generates the default demo (or the given seed) in a temporary
directory and reports rows per second; with ``--dir`` it measures existing datasets
(e.g. one made by an older generator) side by side.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from workbench.demo import DemoConfig, generate
from workbench.demo.realdata import demo_figures, real_figures

REALDATA = Path(__file__).resolve().parents[1].parent / "shared" / "realdata"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=DemoConfig().seed)
    parser.add_argument("--dir", type=Path, nargs="*", default=[])
    parser.add_argument("--realdata", type=Path, default=REALDATA)
    args = parser.parse_args()
    columns: dict[str, dict[str, float]] = {}
    for path in args.dir:
        columns[path.name] = demo_figures(path)
    if not args.dir:
        with tempfile.TemporaryDirectory() as tmp:
            report = generate(Path(tmp) / "demo", DemoConfig(seed=args.seed))
            print(
                f"generated {report.rows:,} rows in {report.seconds:.1f} s "
                f"({report.rows_per_second:,.0f} rows/s)"
            )
            columns[f"demo seed {args.seed}"] = demo_figures(report.path)
    real = real_figures(args.realdata)
    names = list(columns)
    print(f"{'figure':40s}" + "".join(f"{n[:22]:>24s}" for n in names) + f"{'real':>12s}")
    for key in dict.fromkeys([*real, *(k for c in columns.values() for k in c)]):
        cells = "".join(f"{columns[n].get(key, float('nan')):>24.3f}" for n in names)
        print(f"{key:40s}{cells}{real.get(key, float('nan')):>12.3f}")


if __name__ == "__main__":
    main()
