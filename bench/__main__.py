"""``python -m bench [--quick] [--database-url URL]``: run the benchmarks and print their tables."""

from __future__ import annotations

import argparse
import os
import platform

from rich.console import Console
from rich.table import Table

from bench import pipeline


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--quick", action="store_true", help="smaller runs (under a minute)")
    parser.add_argument("--database-url", help="benchmark this database instead of a temporary SQLite file")
    args = parser.parse_args()
    console = Console()
    machine = platform.processor() or platform.machine()
    console.print(f"machine: {machine}, {os.cpu_count()} cores, Python {platform.python_version()}")
    for title, rows in pipeline.run(args.quick, args.database_url):
        table = Table(title=title)
        table.add_column("measure")
        table.add_column("value", justify="right")
        for name, value in rows:
            table.add_row(name, f"{value:,.1f}")
        console.print(table)


if __name__ == "__main__":
    main()
