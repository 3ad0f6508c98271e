"""A line per step on the terminal while a cycle runs (`assurance cycle`, `assurance demo`): which step finished,
in how long, or which failed. Dagster's own console log stays in the run's event log; this logger prints only step
names and times, never a message (a message could quote a value)."""

from __future__ import annotations

import logging
import sys
import time

import dagster as dg

STEPS = {  # what each step does, in the words of the cycle
    "confirmed_standard": "re-confirmed the standard",
    "sampling_plan": "planned the sample",
    "decision_sample": "drew the sample",
    "validation_results": "validated the sample",
    "outcome_evidence": "computed Outcome Evidence",
    "drift_tests.drift_points": "listed the points to test for drift",
    "drift_tests.drift_summary": "tested for drift",
    "findings": "surfaced the findings",
    "assurance_decision": "recorded the assurance decision",
}


class _StepLines(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.started: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_meta", {}).get("dagster_event")
        if event is None or not event.step_key:
            return
        step, kind = event.step_key, event.event_type_value
        if kind == "STEP_START":
            self.started[step] = time.monotonic()
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE"):
            took = time.monotonic() - self.started.get(step, time.monotonic())
            done = _said(step) if kind == "STEP_SUCCESS" else f"{step} failed"
            print(f"  {'✓' if kind == 'STEP_SUCCESS' else '✗'} {done} ({took:.1f} s)", file=sys.stderr, flush=True)


def _said(step: str) -> str:
    """An asset's step in words; an asset check's (`<asset>_<check>`) as `check: <check in words>`."""
    if step in STEPS:
        return STEPS[step]
    if step.startswith("drift_tests.point_drift["):  # one step per decision point: point_drift[<n>_<point>]
        return f"counted {step.split('[', 1)[1].rstrip(']').split('_', 1)[-1]} for drift"
    asset = next((a for a in STEPS if step.startswith(a + "_")), None)
    return f"check: {step[len(asset) + 1:].replace('_', ' ')}" if asset else step


@dg.logger(description="One line per finished step on stderr, for a person at a terminal.")
def step_lines(_init_context: dg.InitLoggerContext) -> logging.Logger:
    logger = logging.getLogger("assurance.progress")
    logger.setLevel(logging.DEBUG)
    logger.handlers = [_StepLines()]
    logger.propagate = False
    return logger


def wanted(json_output: bool) -> bool:
    """Progress only for a person: stderr is a terminal and the output is not JSON."""
    return not json_output and sys.stderr.isatty()
