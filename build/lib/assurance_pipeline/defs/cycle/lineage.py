"""The authorized standard in the lineage: the cycle assets' code version is `standard-<first 12 of its sha256>`
as last authorized (authorization.yaml), so each materialization shows which authorized standard produced it and a
newly authorized standard marks the assets changed. The UI's definitions and a CLI run use the same versions, so a
cycle started either way is in sync with the other."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import dagster as dg

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.integrity import read_authorization


def standard_version(standard_dir: str | Path) -> str | None:
    """None when the standard is not (validly) authorized yet: no version is claimed for it."""
    try:
        auth = read_authorization(Path(standard_dir))
    except (AssuranceError, OSError):
        return None
    return f"standard-{auth.sha256[:12]}" if auth else None


def with_standard_version(assets: Sequence[dg.AssetsDefinition], standard_dir: str | Path) -> list[dg.AssetsDefinition]:
    version = standard_version(standard_dir)
    if version is None:
        return list(assets)
    return list(dg.map_asset_specs(lambda spec: spec.replace_attributes(code_version=version), assets))
