"""Write sample_db/demo.db: the demo database `collector-tui --demo` opens.

    python sample_db/generate.py            # sample_db/demo.db
    python sample_db/generate.py OUT.db     # somewhere else

Deterministic (fixed seed and clock; see collector_tui/demo.py): run it again after a change to the
models, the migrations or the services, and commit the new file.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from collector_tui.demo import DEMO_CASES, DEMO_NOW_TEXT, build_demo


def main(argv: list[str]) -> int:
    target = Path(argv[0]) if argv else Path(__file__).resolve().parent / "demo.db"
    started = time.perf_counter()
    summary = build_demo(target, cases=DEMO_CASES)
    seconds = time.perf_counter() - started
    size = target.stat().st_size / 1024 / 1024
    statuses = ", ".join(f"{name} {count}" for name, count in sorted(summary.statuses.items()))
    countries = ", ".join(f"{name} {count}" for name, count in sorted(summary.countries.items()))
    print(f"{target}: {summary.cases} cases in {seconds:.1f} s, {size:.2f} MB")
    print(f"  statuses: {statuses}")
    print(f"  countries: {countries}")
    print(f"  demo clock: {DEMO_NOW_TEXT}; users alice, bob, wang, sam, root; password demo")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
