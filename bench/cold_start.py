"""Cold start: the median import time of function_app against azure.functions alone, each in a fresh
process. Heavy imports belong inside functions; this keeps them there.

Last line: cold_start_ratio=R function_app_ms=A baseline_ms=B   (goal: R <= 1.3)"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROBE = "import time; t = time.perf_counter(); import {module}; print((time.perf_counter() - t) * 1000)"


def import_ms(module: str) -> float:
    result = subprocess.run(
        [sys.executable, "-X", "frozen_modules=on", "-c", PROBE.format(module=module)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(result.stdout.strip())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=15)
    runs = max(10, parser.parse_args().runs)
    import_ms("function_app")  # warm the file-system cache and byte-code once, as a deployed app has
    app, baseline = [], []
    for _ in range(runs):  # interleaved, so drift in machine load hits both alike
        baseline.append(import_ms("azure.functions"))
        app.append(import_ms("function_app"))
    a, b = statistics.median(app), statistics.median(baseline)
    print(f"function_app_ms_all={[round(x, 1) for x in app]}")
    print(f"baseline_ms_all={[round(x, 1) for x in baseline]}")
    print(f"cold_start_ratio={a / b:.2f} function_app_ms={a:.1f} baseline_ms={b:.1f}")


if __name__ == "__main__":
    main()
