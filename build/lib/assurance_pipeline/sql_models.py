"""Render the SQL models in `dbt_like_sql/`: Jinja for structure only; values go in as bound parameters."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

SQL_DIR = Path(__file__).resolve().parent.parent / "dbt_like_sql"


@cache
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(SQL_DIR), undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True
    )


def render(model: str, **context: object) -> str:
    """The SQL of `dbt_like_sql/<model>.sql` for this context (identifiers and checked expressions only)."""
    return _environment().get_template(f"{model}.sql").render(**context)
