"""``python -m bench [--quick] [--only NAME ...] [--markdown FILE]``: run the benchmarks, print their
tables (and write them as Markdown with the machine's description, for ``docs/performance.md``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from rich.console import Console

from bench import (
    backends,
    burst,
    history,
    imaging_fit,
    inflight,
    overhead,
    pipeline,
    renderer,
    scale,
    scheduler,
    startup,
    upload_memory,
)
from bench.report import Result, load_note, machine, markdown, show

SCENARIOS: dict[str, Callable[[bool], list[Result]]] = {
    "overhead": overhead.run,
    "inflight": inflight.run,
    "imaging": imaging_fit.run,
    "history": history.run,
    "scheduler": scheduler.run,
    "pipeline": pipeline.run,
    "upload_memory": upload_memory.run,
    "scale": scale.run,
    "burst": burst.run,
    "backends": backends.run,
    "renderer": renderer.run,
    "startup": startup.run,
}


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller runs (all of them in a few minutes)")
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run only these scenarios")
    parser.add_argument("--markdown", type=Path, help="also write the tables as Markdown to this file")
    args = parser.parse_args()
    console = Console(width=None if sys.stdout.isatty() else 160)
    started = datetime.now(UTC)
    header = [f"machine: {machine()}", f"at start: {load_note()}"]
    for line in header:
        console.print(line)
    results: list[Result] = []
    clock = time.perf_counter()
    for name in args.only or list(SCENARIOS):
        for result in SCENARIOS[name](args.quick):
            show(console, result)
            results.append(result)
    footer = f"at end: {load_note()}; took {time.perf_counter() - clock:.0f} s"
    console.print(footer)
    if args.markdown is not None:
        mode = "quick" if args.quick else "full"
        lines = [f"### Run of {started:%Y-%m-%d %H:%M} UTC ({mode})", ""]
        lines += [f"- {line}" for line in [*header, footer]] + [""]
        args.markdown.write_text("\n".join(lines) + "\n".join(markdown(r) + "\n" for r in results))
        console.print(f"written to {args.markdown}")


if __name__ == "__main__":
    main()
