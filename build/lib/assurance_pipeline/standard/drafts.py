"""Drafts left in a standard: what `assurance init` proposed and no person has reviewed yet.

Nothing drafted from the live log is authorized or run as if the business had authored it: `authorize` and
`cycle` refuse a standard while any item still carries `draft: true`, naming the first one and its file.
"""

from __future__ import annotations

from assurance_pipeline.errors import AssuranceError
from assurance_pipeline.standard.loading import POINTS_DIR, STANDARD_FILE
from assurance_pipeline.standard.models import Standard


def draft_items(standard: Standard) -> list[str]:
    """Every item still marked `draft: true`, as `file: item`, in the order a reader meets them."""
    header = standard.header
    found = [f"{STANDARD_FILE}: the header (name, version, owner)"] if header.draft else []
    found += [f"{STANDARD_FILE}: risk tier {name}" for name, tier in header.risk_tiers.items() if tier.draft]
    found += [f"{STANDARD_FILE}: actor {actor.id}" for actor in header.actors if actor.draft]
    for point_id, point in standard.decision_points.items():
        where = standard.point_files.get(point_id, f"{POINTS_DIR}/{point_id}.yaml")
        found += [f"{where}: decision point {point_id}"] if point.draft else []
        found += [f"{where}: contract column {name}" for name, column in point.contract.items() if column.draft]
        found += [f"{where}: condition {cond.id}" for cond in point.conditions if cond.draft]
    return found


def refuse_drafts(standard: Standard, action: str) -> None:
    """One line naming the first draft left (and how many more), so no draft is authorized or run unreviewed."""
    found = draft_items(standard)
    if not found:
        return
    files = list(dict.fromkeys(item.split(": ", 1)[0] for item in found))
    more = ""
    if len(found) > 1:
        where = ", ".join(files[:3]) + (f" and {len(files) - 3} more files" if len(files) > 3 else "")
        more = f" ({len(found) - 1} more item{'s' if len(found) > 2 else ''} marked draft: true, in {where})"
    raise AssuranceError(f"{found[0]} is a draft (draft: true); review it and remove the mark{more}: "
                         f"a standard with drafts left cannot be {action}")
