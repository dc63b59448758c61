"""Run benchmark suites: ``python -m benchmarks [SUITE|all] [--quick]``.

Suites: client, local, clifford, scale, server, proxy, kernel, executor.

Each suite prints a table comparing jupyter-qrt with qiskit-ibm-runtime on the same work.
"""

from __future__ import annotations

import argparse
import importlib

SUITES = {
    "client": "benchmarks.client",
    "local": "benchmarks.local",
    "clifford": "benchmarks.clifford",
    "scale": "benchmarks.scale",
    "server": "benchmarks.server",
    "proxy": "benchmarks.proxy",
    "kernel": "benchmarks.kernel",
    "executor": "benchmarks.executor",
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("suite", choices=[*SUITES, "all"], nargs="?", default="all")
    parser.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    args = parser.parse_args()
    names = list(SUITES) if args.suite == "all" else [args.suite]
    for name in names:
        module = importlib.import_module(SUITES[name])
        module.main(quick=args.quick)


if __name__ == "__main__":
    main()
