"""The results table (scenario | figure | floor | ratio | target | result), on the terminal and in docs/performance.md."""

import os
import platform
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

DOCS_PATH = Path(__file__).resolve().parent.parent / "docs" / "performance.md"
ANALYSIS_HEADING = "## Analysis"  # everything from this heading on is written by people and kept across runs


@dataclass
class Row:
    scenario: str
    figure: str
    floor: str = ""
    ratio: str = ""
    target: str = ""
    passed: bool | None = None  # None: a reference figure, no target

    @property
    def result(self) -> str:
        return {True: "pass", False: "FAIL", None: "—"}[self.passed]


@dataclass
class Report:
    profile: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    details: list[str] = field(default_factory=list)  # long diagnostics (EXPLAIN ANALYZE) for the docs
    machine: dict[str, str] = field(default_factory=dict)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    def add(self, *rows: Row) -> None:
        self.rows.extend(rows)

    @property
    def missed(self) -> list[Row]:
        return [row for row in self.rows if row.passed is False]


HEADERS = ("scenario", "figure", "floor", "ratio", "target", "result")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.scenario, row.figure, row.floor, row.ratio, row.target, row.result)


def text_table(rows: list[Row]) -> str:
    cells = [HEADERS, *(_cells(row) for row in rows)]
    widths = [max(len(line[i]) for line in cells) for i in range(len(HEADERS))]
    lines = [" | ".join(value.ljust(widths[i]) for i, value in enumerate(line)).rstrip() for line in cells]
    lines.insert(1, "-+-".join("-" * width for width in widths))
    return "\n".join(lines)


def markdown_table(rows: list[Row]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for row in rows:
        values = [value.replace("|", "\\|") for value in _cells(row)]
        values[-1] = f"**{values[-1]}**" if row.passed is False else values[-1]
        lines.append("| " + " | ".join(values) + " |")
    return "\n".join(lines)


def describe_machine(postgres_version: str) -> dict[str, str]:
    cpu = "unknown"
    try:
        match = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.MULTILINE)
        cpu = match.group(1).strip() if match else cpu
    except OSError:
        pass
    memory = "unknown"
    try:
        match = re.search(r"^MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text(), re.MULTILINE)
        memory = f"{int(match.group(1)) / 1024 / 1024:.1f} GiB" if match else memory
    except OSError:
        pass
    load = " ".join(f"{value:.2f}" for value in os.getloadavg())
    return {
        "CPU": f"{os.cpu_count()} × {cpu} (nproc {len(os.sched_getaffinity(0))})",
        "memory": memory,
        "PostgreSQL": postgres_version,
        "Python": platform.python_version(),
        "kernel": platform.release(),
        "load average before the run": load,
    }


def print_report(report: Report) -> None:
    print()
    print(f"Chatout benchmark ({report.profile}) — {report.started_at:%Y-%m-%d %H:%M} UTC")
    for key, value in report.machine.items():
        print(f"  {key}: {value}")
    print()
    print(text_table(report.rows))
    print()
    for note in report.notes:
        print(f"* {note}")
    if report.errors:
        print("\nERRORS:")
        for error in report.errors:
            print(f"  - {error}")
    missed = report.missed
    print(f"\n{len(report.rows) - len(missed)} rows pass or are references; {len(missed)} target(s) missed.")


def write_docs(report: Report, rerun: str, method: str) -> None:
    """Rewrite docs/performance.md above the Analysis heading; the analysis below it is kept."""
    kept = ""
    if DOCS_PATH.exists():
        existing = DOCS_PATH.read_text()
        if ANALYSIS_HEADING in existing:
            kept = existing[existing.index(ANALYSIS_HEADING) :]
    machine = "\n".join(f"- **{key}**: {value}" for key, value in report.machine.items())
    notes = "\n".join(f"- {note}" for note in report.notes)
    errors = "\n".join(f"- {error}" for error in report.errors) or "- none"
    details = "\n\n".join(report.details)
    body = f"""# Performance

Latest `make bench`: **{report.started_at:%Y-%m-%d %H:%M} UTC** — {len(report.missed)} target(s) missed.
This file is rewritten by every `make bench` down to the Analysis heading; the analysis is kept.

## Machine

{machine}

## Results

{markdown_table(report.rows)}

{notes}

Errors during the run:
{errors}

## How to rerun

{rerun}

## Method

{method}
"""
    if details:
        body += (
            "\n## Diagnostics from this run\n\nEvery SQL statement of each order-desk page that missed its target, "
            "timed, with EXPLAIN ANALYZE of the slowest (from `bench/explain.py`).\n\n"
            f"<details><summary>Statements and plans</summary>\n\n{details}\n\n</details>\n"
        )
    body += "\n" + (kept or f"{ANALYSIS_HEADING}\n\n(none yet)\n")
    DOCS_PATH.write_text(body)
