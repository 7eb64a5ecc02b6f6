"""The typed record of a batch: one :class:`FileRecord` per input and the :class:`BatchSummary` around them,
written as the JSON summary (``descreen-summary.json``) that the report is made from."""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

#: The statuses a batch counts, besides ``interrupted`` and ``not started``.
COUNTED = ("descreened", "copied", "exists", "failed")


@dataclass
class FileRecord:
    """What happened to one input. ``status``: ``descreened``, ``copied`` (continuous tone, written
    unchanged), ``exists`` (kept, ``skip_existing``), ``failed``, ``interrupted`` or ``not started``;
    the other fields are filled as far as the file got (``None``: not known, left out of the JSON)."""

    input: str
    output: str
    status: str = "not started"
    note: str | None = None  #: why the output name differs from the usual one
    error: str | None = None  #: one line, for a failed file
    pages: int | None = None
    kept_unchanged: list[int] | None = None  #: continuous-tone pages written unchanged
    analysis: list[dict | None] | None = None  #: each page's ``ScreenAnalysis.to_dict()`` (rounded)
    found: list[str] | None = None  #: each page's analysis in words
    bit_depth: int | None = None
    metadata: dict | None = None
    assumed_screen: dict | None = None  #: the preset's screen and the pages it stood in for
    screen_scale: list[dict | None] | None = None  #: each page's ``ScaleChoice`` (model only; kept pages: None)
    seconds: float | None = None
    method: str | None = None  #: ``copy``, ``model`` or a classical filter
    model: dict | None = None  #: checkpoint, variant, backend and precision of the model
    earlier: dict | None = None  #: an ``exists`` file's record in the summary of the run that wrote it

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name) is not None}

    def line(self) -> tuple[str, bool]:
        """The one line that reports this file once it is done, and whether it is a warning."""
        if self.status == "exists":
            return f"{self.input}: skipped, {self.output} exists (--skip-existing)", False
        if self.status == "failed":
            return f"error: {self.error}", True
        found = self.found or []
        what = found[0] if len(set(found)) == 1 else "; ".join(f"page {n} {text}" for n, text in enumerate(found, 1))
        pages = f" ({self.pages} pages)" if self.pages > 1 else ""
        took = f"{self.seconds:.1f} s"
        if self.status == "copied":
            return (
                f"warning: {self.input}{pages}: {what}; written unchanged to {self.output} "
                f"(use --force to descreen it anyway; {took})",
                True,
            )
        method = f"model {self.model['variant'] or self.model['checkpoint']}" if self.model else self.method
        kept = self.kept_unchanged
        kept_text = f"; page(s) {', '.join(map(str, kept))} continuous tone, kept unchanged (--force)" if kept else ""
        return f"{self.input}{pages}: {what or 'not analysed'} -> {self.output} ({method}{kept_text}; {took})", bool(
            kept
        )


@dataclass
class BatchSummary:
    """A batch: where it wrote, how it descreened (``method``: the method and the model's details), the
    options, each file's record, and whether Ctrl-C stopped it. ``summary_file`` and ``report_file`` are
    the files written; ``errors`` the lines on what could not be written (then nothing else is lost)."""

    started: str
    seconds: float
    output: str
    mirrored_from: str | None
    method: dict[str, object]
    options: dict[str, object]
    files: list[FileRecord]
    interrupted: bool = False
    summary_file: Path | None = None
    report_file: Path | None = None
    errors: list[str] = field(default_factory=list)

    @property
    def counts(self) -> dict[str, int]:
        """Files per counted status, and ``total``."""
        return {**{s: sum(r.status == s for r in self.files) for s in COUNTED}, "total": len(self.files)}

    @property
    def finished(self) -> int:
        """Files whose output is there: descreened, copied or kept."""
        counts = self.counts
        return counts["descreened"] + counts["copied"] + counts["exists"]

    def totals_line(self) -> str:
        """The line that ends a batch: what it did, where its summary and report are."""
        where = f"; summary in {self.summary_file}" if self.summary_file else ""
        where += f"; report in {self.report_file}" if self.report_file else ""
        counts = self.counts
        if self.interrupted:
            return (
                f"interrupted: {self.finished} of {counts['total']} file(s) finished, kept in {self.output}/{where}; "
                "rerun with --skip-existing to resume"
            )
        extras = [
            f"{counts['copied']} copied unchanged (continuous tone)" if counts["copied"] else "",
            f"{counts['exists']} skipped (output exists)" if counts["exists"] else "",
            f"{counts['failed']} failed" if counts["failed"] else "",
        ]
        extra = "".join(f", {e}" for e in extras if e)
        return f"descreened {counts['descreened']} of {counts['total']} file(s) into {self.output}/{extra}{where}"

    def to_dict(self) -> dict:
        """The JSON summary's content."""
        return {
            "command": "descreen",
            "started": self.started,
            "seconds": self.seconds,
            "output": self.output,
            "mirrored_from": self.mirrored_from,
            **self.method,
            "options": self.options,
            "counts": self.counts,
            "interrupted": self.interrupted,
            "files": [record.to_dict() for record in self.files],
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2) + "\n"


def previous_records(path: Path | None) -> dict[str, dict]:
    """The per-output records of an earlier summary at ``path`` (to keep them when resuming)."""
    try:
        records = json.loads(path.read_text())["files"] if path and path.is_file() else []
        return {r["output"]: r.get("earlier", r) if r.get("status") == "exists" else r for r in records}
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}


def rounded(value: object) -> object:
    """``value`` with its floats to 4 decimals, for a summary people read."""
    if isinstance(value, float):
        return round(value, 4)
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [rounded(v) for v in value]
    return value
