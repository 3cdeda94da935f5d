"""Time importing a whole force's month of data.police.uk street-level crime, and its peak
memory.

    python -m bench.police [--rows 100000]

Builds a database with the Kingston plan (``plans.yaml``) in a temporary folder, writes a
street-level crime file of ``--rows`` rows (100,000 rows is about 30 MB, like the
Metropolitan Police's month) in police.uk's layout, and imports it with
:func:`tracker.services.police_import.import_police`, as ``tracker kpi import-police`` does.
Prints the file's size, the import's time, and the peak memory Python allocated during a
second, traced run (tracemalloc). Today is pinned to 25 November 2026.
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
import tracemalloc
from collections.abc import Sequence
from datetime import date
from pathlib import Path

from bench.imports import build_database
from tracker.services.police_import import HEADER

TODAY = date(2026, 11, 25)
TYPES = ("Anti-social behaviour", "Burglary", "Robbery", "Theft from the person",
         "Vehicle crime", "Violence and sexual offences", "Shoplifting", "Other theft")
AREAS = ("Kingston upon Thames", "Richmond upon Thames", "Merton", "Sutton", "Croydon")


def write_file(path: Path, rows: int) -> None:
    chance = random.Random(14)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(HEADER)
        for n in range(rows):
            kind = chance.choice(TYPES)
            area = chance.choice(AREAS)
            crime_id = "" if kind == "Anti-social behaviour" else f"{n:064x}"
            writer.writerow([
                crime_id, "2025-04", "Metropolitan Police Service",
                "Metropolitan Police Service", f"-0.{chance.randint(100000, 999999)}",
                f"51.{chance.randint(100000, 999999)}",
                f"On or near {chance.choice(['Eden Street', 'Clarence Street, Kingston'])}",
                f"E0100{chance.randint(1000, 9999)}", f"{area} {chance.randint(1, 30):03d}A",
                kind, "Investigation complete; no suspect identified" if crime_id else "", ""])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="tracker-bench-police-") as name:
        folder = Path(name)
        _db, app = build_database(folder)
        path = folder / "2025-04-metropolitan-street.csv"
        write_file(path, args.rows)
        print(f"{args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")
        from tracker.cli.support import loaded_plan
        from tracker.db import transaction
        from tracker.services.police_import import PoliceReport, import_police

        def run() -> PoliceReport:
            with transaction() as session, path.open("rb") as stream:
                return import_police(session, loaded_plan(session), "bench",
                                     [(path.name, stream)], dry_run=True, today=TODAY)

        with app.app_context():
            started = time.perf_counter()
            report = run()
            seconds = time.perf_counter() - started
            tracemalloc.start()  # a second run, traced (tracing slows it down several times)
            run()
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        print(" ".join(report.notes()))
        print(f"import (dry run): {seconds:.2f} s; peak memory allocated while importing "
              f"{peak / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
