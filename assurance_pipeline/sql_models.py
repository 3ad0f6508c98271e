"""Render the SQL models in `dbt_like_sql/`: Jinja for structure only; values go in as bound parameters."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

SQL_DIR = Path(__file__).resolve().parent.parent / "dbt_like_sql"


@cache
def _environment() -> jinja2.Environment:
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(SQL_DIR), undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )
    environment.globals["md5_lower"] = md5_lower
    return environment


def md5_lower(expr: str) -> str:
    """A string's md5 bytes 8-15 read little-endian, as a UBIGINT: the value of DuckDB's `md5_number_lower`, taken as
    the top 64 bits of `md5_number`, which DuckDB computes four times faster (3.3M ids: 0.45 s against 1.8 s)."""
    return f"CAST(md5_number({expr}) >> 64 AS UBIGINT)"


def render(model: str, **context: object) -> str:
    """The SQL of `dbt_like_sql/<model>.sql` for this context (identifiers and checked expressions only)."""
    return _environment().get_template(f"{model}.sql").render(**context)
