"""FAQ import and export as CSV or YAML, validated as a whole before anything is written.

CSV columns: key, category, question, answer, alternates (phrasings separated by `|`),
and optionally `retired` (yes/no). YAML: `faqs:` a list of mappings with the same
fields, `alternates` a list.
"""

from __future__ import annotations

import csv
import io
from typing import Any

import yaml

from bot.errors import InvalidFaqData
from bot.faq.guardrails import find_duplicates
from bot.faq.review import FaqVersion, ReviewRefused, validate_version

CSV_COLUMNS = ("key", "category", "question", "answer", "alternates", "retired")
FORMATS = ("csv", "yaml")
ALTERNATE_SEPARATOR = "|"
MAX_ROWS = 5000


class ImportErrors(InvalidFaqData):
    """An import file has errors; each names its row."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__(f"{len(errors)} error(s); nothing was imported: " + "; ".join(errors[:20]))
        self.errors = errors


def export_faqs(versions: list[FaqVersion], fmt: str) -> str:
    """Return the FAQs as CSV or YAML text."""
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for v in versions:
            writer.writerow([v.key, v.category, v.question, v.answer,
                             f" {ALTERNATE_SEPARATOR} ".join(v.alternates),
                             "" if v.active else "yes"])
        return out.getvalue()
    if fmt == "yaml":
        rows = []
        for v in versions:
            row: dict[str, Any] = {"key": v.key, "category": v.category, "question": v.question,
                                   "answer": v.answer, "alternates": list(v.alternates)}
            if not v.active:
                row["retired"] = True
            rows.append(row)
        return yaml.safe_dump({"faqs": rows}, allow_unicode=True, sort_keys=False, width=100)
    raise InvalidFaqData(f"Unknown format {fmt!r}; use csv or yaml.")


def _csv_rows(text: str) -> list[tuple[str, dict[str, Any]]]:
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in CSV_COLUMNS[:4] if c not in (reader.fieldnames or [])]
    if missing:
        raise ImportErrors([f"header: missing column(s) {', '.join(missing)}"])
    rows = []
    for number, row in enumerate(reader, start=2):
        if None in row:
            rows.append((f"row {number}", {"_error": "more cells than columns"}))
            continue
        alternates = [a.strip() for a in (row.get("alternates") or "").split(ALTERNATE_SEPARATOR)]
        rows.append((f"row {number}", {**row, "alternates": [a for a in alternates if a],
                                       "retired": (row.get("retired") or "").strip().lower()
                                       in ("yes", "true", "1")}))
    return rows


def _yaml_rows(text: str) -> list[tuple[str, dict[str, Any]]]:
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ImportErrors([f"not valid YAML: {exc}"]) from exc
    if not isinstance(document, dict) or not isinstance(document.get("faqs"), list):
        raise ImportErrors(["expected a mapping with a 'faqs' list"])
    rows = []
    for number, item in enumerate(document["faqs"], start=1):
        where = f"faq {number}"
        if not isinstance(item, dict):
            rows.append((where, {"_error": "expected a mapping"}))
        elif not isinstance(item.get("alternates", []), list):
            rows.append((where, {"_error": "alternates must be a list"}))
        else:
            rows.append((where, {**item, "retired": bool(item.get("retired", False))}))
    return rows


def parse_import(text: str, fmt: str, *, live: list[FaqVersion]) -> list[FaqVersion]:
    """Return the FAQs of an import file that differ from the live ones.

    Raises:
        ImportErrors: listing every bad row; the caller then writes nothing.
    """
    if fmt not in FORMATS:
        raise InvalidFaqData(f"Unknown format {fmt!r}; use csv or yaml.")
    rows = _csv_rows(text) if fmt == "csv" else _yaml_rows(text)
    if len(rows) > MAX_ROWS:
        raise ImportErrors([f"{len(rows)} rows; at most {MAX_ROWS} per import"])
    errors: list[str] = []
    versions: list[FaqVersion] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if "_error" in row:
            errors.append(f"{where}: {row['_error']}")
            continue
        values = {name: row.get(name) for name in ("key", "category", "question", "answer")}
        bad = [n for n, v in values.items() if not isinstance(v, str) or not v.strip()]
        if bad or not all(isinstance(a, str) for a in row["alternates"]):
            errors.append(f"{where}: {', '.join(bad) or 'alternates'} must be non-empty text")
            continue
        try:
            version = validate_version(FaqVersion(
                **{n: str(v) for n, v in values.items()},
                alternates=tuple(row["alternates"]), active=not row["retired"]))
        except ReviewRefused as exc:
            errors.append(f"{where}: {exc.message}")
            continue
        if version.key in seen:
            errors.append(f"{where}: key {version.key} is also in {seen[version.key]}")
            continue
        seen[version.key] = where
        versions.append(version)
    live_by_key = {v.key: v for v in live}
    changed = [v for v in versions if live_by_key.get(v.key) != v]
    if not errors:
        errors += [f"duplicate: {p}" for p in find_duplicates(changed, live)]
    if errors:
        raise ImportErrors(errors)
    return changed
