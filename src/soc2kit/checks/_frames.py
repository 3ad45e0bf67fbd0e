"""Reading inputs for the checks: files (CSV, Parquet, JSON Lines, scanned lazily with Polars) or
any dataframe Narwhals accepts (pandas, Polars, PyArrow, DuckDB, PySpark)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import narwhals as nw

from soc2kit.errors import Location, UserError

SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".jsonl": "ndjson", ".ndjson": "ndjson"}


def open_frame(source: Any) -> nw.LazyFrame:
    """A Narwhals LazyFrame over a path or a native frame."""
    if isinstance(source, (str, Path)):
        import polars as pl

        path = Path(source)
        if not path.exists():
            raise UserError("input file not found", location=Location(path))
        if path.is_dir():
            raise UserError("input must be a file, not a directory", location=Location(path))
        kind = SUFFIXES.get(path.suffix.lower())
        if kind is None:
            raise UserError(f"unsupported file type {path.suffix!r}", location=Location(path), hint="use CSV, Parquet or JSON Lines (.jsonl)")
        try:
            if kind == "csv":
                lf = pl.scan_csv(path, infer_schema_length=10000)
            elif kind == "parquet":
                lf = pl.scan_parquet(path)
            else:
                lf = pl.scan_ndjson(path)
            lf.collect_schema()
        except Exception as exc:  # polars raises its own error types for unreadable files
            raise UserError(f"cannot read the input: {str(exc).splitlines()[0][:300]}", location=Location(path)) from None
        return nw.from_native(lf).lazy()
    try:
        frame = nw.from_native(source)
    except TypeError:
        raise UserError(f"unsupported input {type(source).__name__}", hint="pass a path or a pandas, Polars, PyArrow, DuckDB or PySpark frame") from None
    return frame.lazy()


def require_columns(lf: nw.LazyFrame, names: list[str], where: str) -> None:
    available = list(lf.collect_schema().names())
    missing = [n for n in names if n not in available]
    if missing:
        raise UserError(f"{where}: column(s) {', '.join(repr(m) for m in missing)} not found", hint=f"available columns: {', '.join(available)}")
