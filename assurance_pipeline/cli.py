"""`assurance`: the command line beside the Dagster UI. Every failure is one line on stderr and an exit code:
0 done, 1 verify/reperform found a mismatch, 2 bad usage or input, 3 source or evidence store unreadable or unwritable,
130 interrupted (SIGINT, Ctrl-C), 143 stopped (SIGTERM)."""

from __future__ import annotations

import argparse
import json
import os
from dataclasses import asdict
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from assurance_pipeline.errors import AssuranceError, EvidenceStoreError, engine_error, is_engine_error
from assurance_pipeline.findings.model import DISPOSITIONS

if TYPE_CHECKING:  # every command imports what it needs, so `--help` and `plan` answer at once
    from assurance_pipeline.evidence.ledger import Ledger

DEMO_ROOT = Path("data") / "demo"
DEMO_SEED = "demo-cycle-2026-q2"  # fixed, so the demo's sample (and so its findings) is the same on every machine


class _Parser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line and exit 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        command = self.prog.removeprefix("assurance").strip()
        raise AssuranceError(f"{command}: {message}" if command else message)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    with _signals() as received:
        try:
            args = parser.parse_args(argv)
            return args.handler(args)
        except BrokenPipeError:  # the reader went away (`assurance findings | head`): stop quietly, as SIGPIPE would
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return 128 + signal.SIGPIPE
        except BaseException as err:  # noqa: BLE001 - an interrupted command reports the signal, whatever it broke
            if received or isinstance(err, KeyboardInterrupt):
                return _interrupted(received[0] if received else signal.SIGINT)
            if is_engine_error(err):  # an engine failure outside a cycle's steps (baseline, init, reperform): one line too
                err = engine_error(err, "the decision log could not be processed")
            if isinstance(err, AssuranceError):
                print("assurance: error: " + " ".join(str(err).splitlines()), file=sys.stderr)  # one line, whatever the message
                return err.exit_code
            raise


@contextmanager
def _signals() -> Iterator[list[int]]:
    """Note SIGINT and SIGTERM, then stop as Ctrl-C does: SIGTERM is handed to the SIGINT handler in force, which is
    Dagster's while a step runs (the step fails, the run ends, nothing more is recorded) and ours otherwise."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received
        return

    def on_sigint(signum: int, _frame) -> None:
        received.append(signum)
        raise KeyboardInterrupt

    def on_sigterm(signum: int, frame) -> None:
        received.append(signum)
        handler = signal.getsignal(signal.SIGINT)
        if handler is on_sigint or not callable(handler):
            raise KeyboardInterrupt
        handler(signal.SIGINT, frame)

    previous = signal.signal(signal.SIGINT, on_sigint), signal.signal(signal.SIGTERM, on_sigterm)
    try:
        yield received
    finally:
        signal.signal(signal.SIGINT, previous[0])
        signal.signal(signal.SIGTERM, previous[1])


def _interrupted(signum: int) -> int:
    name = signal.Signals(signum).name
    print(f"assurance: error: interrupted by {name}: the command stopped; a cycle it was running recorded no decision "
          "(its evidence store is intact)", file=sys.stderr)
    return 128 + signum


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="assurance", description="Production Assurance: hold live decisions to the standard the business authored.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    demo = commands.add_parser("demo", help="make the demo standard and decision log under data/demo and run one cycle")
    demo.add_argument("--dir", type=Path, default=DEMO_ROOT, help="where to write the demo (default data/demo)")
    demo.add_argument("--rows", type=int, default=120_000, help="decisions in the demo log (default 120000)")
    demo.add_argument("--until", type=_demo_until, help="move the demo log so that it ends on this day (YYYY-MM-DD or 'today', "
                      "UTC): the schedules and the new-decisions sensor then find its decisions in their recent windows")
    demo.add_argument("--json", action="store_true", help="print the cycle result as JSON")
    demo.set_defaults(handler=cmd_demo)

    baseline = commands.add_parser("baseline", help="record the go-live baseline (aggregates only) into the standard")
    _standard_source(baseline)
    baseline.add_argument("--from", dest="window_from", required=True, help="first day of the go-live window (YYYY-MM-DD)")
    baseline.add_argument("--to", dest="window_to", required=True, help="last day of the go-live window, included")
    baseline.add_argument("--json", action="store_true")
    baseline.set_defaults(handler=cmd_baseline)

    _signed_change(commands.add_parser("authorize", help="sign off the standard as it is now"),
                   "who authorizes it (a person, in business terms)", cmd_authorize)
    _signed_change(commands.add_parser("propose", help="record a proposed change of the standard: the diff since the last authorization, in words"),
                   "who proposes the change (someone else authorizes it)", cmd_propose)

    keys = commands.add_parser("keys", help="signing keys of the people who authorize, propose and dispose")
    key_commands = keys.add_subparsers(dest="keys_command", required=True, parser_class=_Parser)
    new_key = key_commands.add_parser("new", help="make a person's Ed25519 key pair; prints the public key to register under `people`")
    new_key.add_argument("--name", required=True, help="the person's name as registered under `people` (names the key file)")
    new_key.add_argument("--out", type=Path, help="folder for the private key (default $ASSURANCE_KEY_DIR or ~/.assurance/keys; "
                         "never inside an evidence store)")
    new_key.add_argument("--json", action="store_true")
    new_key.set_defaults(handler=cmd_keys_new)

    cycle = commands.add_parser("cycle", help="run one governed cycle through the Dagster assets and print its result")
    _standard_source(cycle)
    _evidence(cycle)
    cycle.add_argument("--from", dest="window_from", help="first day (or ISO instant) of the window")
    cycle.add_argument("--to", dest="window_to", help="last day of the window, included (or an exclusive ISO instant)")
    cycle.add_argument("--tier", dest="tiers", action="append", choices=["critical", "high", "routine"], help="only these risk tiers (repeatable)")
    cycle.add_argument("--point", dest="points", action="append", help="only this decision point (repeatable)")
    cycle.add_argument("--seed", help="the selection seed (default: a fresh random one, recorded in the ledger)")
    cycle.add_argument("--follow-up-of", metavar="CYCLE_ID", help="draw the second stage of that cycle's two-stage plans that ended 'extend'")
    cycle.add_argument("--executor", choices=["in_process", "multiprocess"], default="in_process",
                       help="in_process (default): every step in this process; multiprocess: a process per step, the decision "
                            "points' drift counts in parallel, each step re-drawing the sample from the source and checking it")
    cycle.add_argument("--json", action="store_true", help="print the result as JSON (cycle_id, window, decision, standard, decision_points, findings, ledger, evidence_pack)")
    cycle.set_defaults(handler=cmd_cycle)

    dispose = commands.add_parser(
        "dispose", help="record a human disposition of a finding (a lifecycle: a new one supersedes only with --supersede)",
        description="Record a disposition of a finding. remediate: the finding's decision point is sampled at heightened "
        "intensity until a cycle no longer sees the problem; if it recurs the finding is reopened. accept_change: the "
        "behaviour is accepted and a change is owed to the standard; the finding stays owed until an authorization is "
        "recorded after it. false_positive: closes the finding. escalate --to NAME: hands it to NAME, who records the "
        "next disposition with --supersede. Every disposition stays on the record.")
    dispose.add_argument("finding_id")
    dispose.add_argument("--as", dest="disposition", required=True, choices=DISPOSITIONS)
    dispose.add_argument("--by", required=True, help="who disposes of it")
    dispose.add_argument("--note", required=True, help="the rationale, for the record")
    dispose.add_argument("--to", metavar="NAME", help="with --as escalate (required there): whom it is escalated to")
    dispose.add_argument("--supersede", action="store_true", help="replace the disposition that stands (which stays on the record)")
    _key(dispose)
    _evidence(dispose)
    dispose.add_argument("--json", action="store_true")
    dispose.set_defaults(handler=cmd_dispose)

    findings = commands.add_parser(
        "findings", help="list findings: where they were seen, their dispositions and status",
        description="Each finding (one per problem: a problem a later cycle sees again is a recurrence of its "
        "open finding, not a new one): first and last seen, cycles seen, and its status: OPEN, REOPENED, ESCALATED, "
        "OWED (an accepted change not yet authorized), remediated, false positive; OVERDUE when a cycle found it "
        "awaiting past its tier's grace; 'not seen since' when later cycles over its point no longer see it.")
    _evidence(findings)
    findings.add_argument("--open", action="store_true", help="only findings awaiting a disposition, escalated or owed")
    findings.add_argument("--id", dest="finding_id", metavar="FINDING_ID", help="the whole history of one finding: every cycle that saw it, every disposition")
    findings.add_argument("--json", action="store_true")
    findings.set_defaults(handler=cmd_findings)

    verify = commands.add_parser("verify", help="check the whole evidence ledger and packs (exit 1 naming the first problem)")
    _evidence(verify)
    verify.add_argument("--checkpoint", type=Path, help="a checkpoint kept earlier: also prove the log still extends it "
                        "(catches truncation, rollback and a rewritten history)")
    verify.add_argument("--json", action="store_true")
    verify.set_defaults(handler=cmd_verify)

    checkpoint = commands.add_parser("checkpoint", help="print the evidence log's latest signed checkpoint (keep it: `verify --checkpoint` proves the log extends it)")
    _evidence(checkpoint)
    checkpoint.add_argument("--json", action="store_true")
    checkpoint.set_defaults(handler=cmd_checkpoint)

    prove = commands.add_parser("prove", help="print an inclusion proof of one ledger entry against the latest checkpoint")
    prove.add_argument("entry", type=_population, metavar="ENTRY", help="the entry's sequence number (as `verify` and the CLI print it)")
    _evidence(prove)
    prove.add_argument("--json", action="store_true")
    prove.set_defaults(handler=cmd_prove)

    witness = commands.add_parser("witness", help="as an independent party: check the log extends what you cosigned last, and cosign its latest checkpoint")
    _evidence(witness)
    witness.add_argument("--key", type=Path, required=True, help="your private key (`assurance keys new`)")
    witness.add_argument("--state", type=Path, required=True, help="your state file: what you cosigned last (made on first use; keep it yourself)")
    witness.add_argument("--name", help="the name you cosign as (default: the key file's name), e.g. auditor.example/w1")
    witness.add_argument("--json", action="store_true")
    witness.set_defaults(handler=cmd_witness)

    repair = commands.add_parser("repair", help="move a torn last ledger line (a write cut short) aside and record the repair")
    _evidence(repair)
    repair.add_argument("--json", action="store_true")
    repair.set_defaults(handler=cmd_repair)

    reperform = commands.add_parser("reperform", help="re-draw a cycle's sample from the source and confirm it is the same (exit 1 if not)")
    reperform.add_argument("cycle_id")
    reperform.add_argument("--source", required=True, help="the decision log the cycle sampled")
    _evidence(reperform)
    reperform.add_argument("--json", action="store_true")
    reperform.set_defaults(handler=cmd_reperform)

    report = commands.add_parser("report", help="the sponsor's report across cycles: one self-contained HTML page")
    _evidence(report)
    report.add_argument("--from", dest="report_from", required=True, help="first day of the period (YYYY-MM-DD, UTC)")
    report.add_argument("--to", dest="report_to", required=True, help="last day of the period, included")
    report.add_argument("--out", type=Path, required=True, help="the HTML file to write (replaced atomically)")
    report.add_argument("--json", action="store_true")
    report.set_defaults(handler=cmd_report)

    init = commands.add_parser(
        "init", help="Foundation Initialization: draft a standard from the live decision log, for people to review",
        description="Profile the live decision log and draft a standard folder at --out: the decision points found, a data "
        "contract per point, the actors and versions seen, a proposed decision field, DCT conditions mined from the decisions "
        "and suggested risk tiers. Every drafted item is marked draft: true with its evidence (the share of rows it holds on); "
        "authorize and cycle refuse the standard until a person has reviewed each item and removed the mark.")
    init.add_argument("--source", required=True, help="the live decision log: file.parquet, dir/, file.csv, duckdb:///x.db?table=t, postgresql://user@host/db?table=t")
    init.add_argument("--out", type=Path, required=True, help="a new (or empty) folder for the draft standard; never overwritten")
    init.add_argument("--from", dest="window_from", help="first day (or ISO instant) of the decisions to draft from, e.g. go-live")
    init.add_argument("--to", dest="window_to", help="last day of the decisions to draft from, included")
    init.add_argument("--json", action="store_true", help="print the drafted decision points and counts as JSON")
    init.set_defaults(handler=cmd_init)

    plan = commands.add_parser("plan", help="the attribute-sampling plan: sample size and deviations allowed")
    plan.add_argument("--confidence", type=float, required=True, help="e.g. 0.95")
    plan.add_argument("--tolerable", type=float, required=True, help="tolerable deviation rate, e.g. 0.05")
    plan.add_argument("--expected", type=float, default=0.0, help="expected deviation rate (default 0)")
    plan.add_argument("--population", type=_population, help="decisions in the population; a small one is planned "
                      "without replacement (hypergeometric) when the binomial sample would be over a tenth of it")
    plan.add_argument("--json", action="store_true")
    plan.set_defaults(handler=cmd_plan)
    return parser


def _standard_source(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--standard", type=Path, required=True, help="the standard folder")
    parser.add_argument("--source", required=True, help="the decision log: file.parquet, dir/, file.csv, duckdb:///x.db?table=t, postgresql://user@host/db?table=t")


def _signed_change(parser: argparse.ArgumentParser, by: str, handler) -> None:
    """`authorize` and `propose`: a standard folder, who signs, why, and their key."""
    parser.add_argument("--standard", type=Path, required=True, help="the standard folder")
    parser.add_argument("--by", required=True, help=by)
    parser.add_argument("--note", default="", help="why, e.g. the change request")
    _key(parser)
    _evidence(parser, required=False)
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(handler=handler)


def _key(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--key", type=Path, help="the signer's private key (default: the file ASSURANCE_SIGNING_KEY names); "
                        "needed once the authorized standard registers people")


def _evidence(parser: argparse.ArgumentParser, required: bool = True) -> None:
    kwargs = {"required": True} if required else {"default": Path("evidence"), "help": "evidence store (default ./evidence)"}
    parser.add_argument("--evidence", type=Path, **kwargs)


def _emit(args: argparse.Namespace, data: object, text: str) -> None:
    print(json.dumps(data, indent=2, default=str) if args.json else text)


def _demo_until(text: str):
    """--until: a day, or 'today' (UTC)."""
    import datetime as dt

    if text == "today":
        return dt.datetime.now(dt.UTC).date()
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a day (YYYY-MM-DD) or 'today', got {text!r}") from None


def _population(text: str) -> int:
    """--population: a whole number of decisions, at least 1."""
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of decisions, at least 1, got {text!r}")
    return value


def cmd_plan(args: argparse.Namespace) -> int:
    from assurance_pipeline.sampling.plans import BINOMIAL, attribute_sample_size

    try:
        plan = attribute_sample_size(args.confidence, args.tolerable, args.expected, args.population)
    except ValueError as err:
        raise AssuranceError(str(err)) from None
    if plan.distribution == BINOMIAL:
        method = "AICPA attribute sampling, exact binomial" + (f"; the sample is at most a tenth of the population of {plan.population}" if plan.population else "")
    elif plan.sample_size == plan.population:
        method = f"exact hypergeometric: no sample short of the whole population of {plan.population} is enough, so test every decision"
    else:
        method = f"exact hypergeometric for a population of {plan.population}, as the binomial sample would be over a tenth of it"
    _emit(args, plan.to_dict(), f"sample size {plan.sample_size}, deviations allowed {plan.allowed_deviations} "
          f"(confidence {args.confidence:g}, tolerable {args.tolerable:g}, expected {args.expected:g}; {method})")
    return 0


def cmd_init(args: argparse.Namespace) -> int:
    from assurance_pipeline.standard.drafting import init_standard

    result = init_standard(args.source, args.out, args.window_from, args.window_to)
    lines = [f"drafted a standard at {result.out} from {result.rows} decisions: {len(result.points)} decision points, "
             f"{result.actors} actors, {result.drafts} items marked draft: true"]
    lines += [f"  {p['id']:<22} {p['risk_tier']:<8} {p['rows']:>7} decisions  {p['contract_columns']:>3} contract columns  "
              f"{p['conditions']:>2} conditions  decision field {p['decision_field'] or '-'}" for p in result.points]
    if result.skipped_points:
        lines.append(f"  left out: {len(result.skipped_points)} decision point value(s) that are not valid ids (letters, digits, _ and -)")
    lines.append("review every item marked draft: true, fill in every TODO and remove the marks; then baseline and authorize")
    _emit(args, result.to_dict(), "\n".join(lines))
    return 0


def cmd_baseline(args: argparse.Namespace) -> int:
    from assurance_pipeline.drift.baseline import compute_baseline, write_baseline
    from assurance_pipeline.sources.decision_log import DecisionLog
    from assurance_pipeline.sources.window import Window
    from assurance_pipeline.standard.loading import load_standard
    from assurance_pipeline.workspace import transient_workspace

    standard = load_standard(args.standard)
    window = Window.parse(args.window_from, args.window_to)
    with transient_workspace() as con:
        DecisionLog(args.source, frozenset(standard.columns())).attach(con, window)  # a table's copy: the standard's columns
        baseline = compute_baseline(con, standard, window)
    path = write_baseline(args.standard, baseline)
    counts = {p: v["population"] for p, v in baseline["points"].items()}
    _emit(args, {"baseline": str(path), "population": counts},
          f"baseline written to {path} ({sum(counts.values())} decisions, aggregates only); re-authorize the standard to sign it off")
    return 0


def cmd_authorize(args: argparse.Namespace) -> int:
    from assurance_pipeline.standard.integrity import authorize

    done = authorize(args.standard, args.by, args.note, _ledger(args.evidence), args.key)
    auth = done.authorization
    signed = f"signed by {done.signed_by}" if done.signed_by else "UNSIGNED (no people registered)"
    carried = f", carrying out proposal {done.proposal_seq}" if done.proposal_seq else ""
    text = f"authorized {auth.standard} v{auth.version} by {auth.authorized_by}, {signed}{carried}: sha256 {auth.sha256} ({len(auth.files)} files)"
    _emit(args, {**auth.model_dump(), "changes": done.changes, "proposal": done.proposal_seq, "signed_by": done.signed_by},
          "\n".join([text, *_change_lines(done.changes)]))
    return 0


def _change_lines(changes: list[str]) -> list[str]:
    return [f"changes ({len(changes)}):", *(f"  {line}" for line in changes)] if changes else ["no change since the last authorization"]


def cmd_propose(args: argparse.Namespace) -> int:
    from assurance_pipeline.standard.proposals import propose

    entry, change = propose(args.standard, args.by, args.note, _ledger(args.evidence), args.key)
    signed = f"signed by {entry.signature.by}" if entry.signature else "UNSIGNED (no people registered)"
    text = f"proposal recorded (ledger entry {entry.seq}) by {args.by}, {signed}; someone other than {args.by} authorizes it"
    _emit(args, {"entry": entry.seq, **entry.body}, "\n".join([text, *_change_lines(change.lines)]))
    return 0


def cmd_keys_new(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.signing import default_key_dir, new_key

    path, public = new_key(args.name, args.out or default_key_dir())
    _emit(args, {"name": args.name, "private_key": str(path), "public_key": public},
          f"private key: {path} (mode 0600; keep it to yourself, never in the evidence store)\n"
          f"register it in standard.yaml:\n  - {{name: {args.name}, role: owner, public_key: \"{public}\"}}")
    return 0


def cmd_cycle(args: argparse.Namespace) -> int:
    from assurance_pipeline.defs.cycle.progress import wanted
    from assurance_pipeline.defs.cycle.run import run_cycle

    result = run_cycle(args.standard, args.source, args.evidence, args.window_from, args.window_to, args.tiers, args.seed,
                       follow_up_of=args.follow_up_of, points=args.points, progress=wanted(args.json), executor=args.executor)
    _emit(args, result, format_result(result))
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from assurance_pipeline.defs.cycle.progress import wanted
    from assurance_pipeline.defs.cycle.run import run_cycle
    from assurance_pipeline.demo.generator import DRIFT_TO, INJECTED_PROBLEMS, write_demo

    paths = write_demo(args.dir, rows=args.rows, until=args.until)
    say = (lambda *_: None) if args.json else print
    say(f"demo decision log: {paths.log_path} ({args.rows} decisions, {paths.golive_from} to {paths.drift_to})")
    moved = f" (dates of the log as first made; this one is moved {(paths.drift_to - DRIFT_TO).days} days later)" if args.until else ""
    say(f"injected after go-live{moved}: " + "; ".join(INJECTED_PROBLEMS))
    for argv in (
        ["baseline", "--standard", str(paths.standard_dir), "--source", str(paths.log_path), "--from", str(paths.golive_from), "--to", str(paths.golive_to)],
        ["authorize", "--standard", str(paths.standard_dir), "--by", "CFO office (demo)", "--note", "demo go-live sign-off", "--evidence", str(args.dir / "evidence")],
    ):
        parsed = build_parser().parse_args(argv)
        parsed.json = False
        if args.json:
            parsed.handler = _quiet(parsed.handler)
        parsed.handler(parsed)
    say(f"running a governed cycle over {paths.drift_from} to {paths.drift_to} ...")
    result = run_cycle(paths.standard_dir, str(paths.log_path), args.dir / "evidence", str(paths.drift_from), str(paths.drift_to),
                       seed=DEMO_SEED, progress=wanted(args.json), trigger="demo")
    _emit(args, result, format_result(result))
    return 0


def _quiet(handler):
    def run(parsed: argparse.Namespace) -> int:
        import contextlib
        import io

        with contextlib.redirect_stdout(io.StringIO()):
            return handler(parsed)

    return run


def cmd_dispose(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.dispositions import record_disposition

    entry = record_disposition(_ledger(args.evidence), args.finding_id, args.disposition, args.by, args.note, args.supersede, args.to, args.key)
    to = f" to {args.to}" if args.to else ""
    signed = f", signed by {entry.signature.by}" if entry.signature else " (UNSIGNED: no people registered)"
    _emit(args, entry.body, f"{args.finding_id}: disposed as {args.disposition}{to} by {args.by}{signed} (ledger entry {entry.seq})"
          + (f"; it supersedes ledger entry {entry.body['supersedes']}" if "supersedes" in entry.body else ""))
    return 0


def cmd_findings(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.dispositions import find_row, history_lines, list_findings, sighting_text, status_text
    from assurance_pipeline.findings.lifecycle import OPEN

    if args.finding_id:
        row = find_row(_ledger(args.evidence), args.finding_id)
        _emit(args, row, "\n".join(history_lines(row)))
        return 0
    rows = [r for r in list_findings(_ledger(args.evidence)) if not args.open or r["status"] in OPEN]
    lines = [f"{r['id']}  [{r['severity']}] {r['kind']}: {r['summary']}\n    {sighting_text(r)}\n    {status_text(r)}" for r in rows]
    _emit(args, rows, "\n".join(lines) if lines else "no findings")
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.verification import verify_store

    ledger = _ledger(args.evidence)
    if not ledger.path.is_file():
        raise EvidenceStoreError(f"{args.evidence}: no ledger.jsonl (not an evidence store?)")
    report = verify_store(args.evidence, _held_checkpoint(args.checkpoint) if args.checkpoint else None)
    if report.intact:
        text = f"intact: {report.entries} entries, head {report.head}; {report.signed} signed" + (
            f", {report.unsigned} UNSIGNED (recorded while no people were registered)" if report.unsigned else "")
        text += f"; checkpoint at {report.checkpoint}" if report.checkpoint else ""
        text += "".join(f"\nwitness {w.witness} cosigned up to {w.size} on {_utc(w.at)}" for w in report.witnesses)
        text += f"\nthe log extends the checkpoint in {args.checkpoint}" if args.checkpoint else ""
    else:
        text = f"{'INTERRUPTED' if report.interrupted else 'TAMPERED'}: {report.problem}"
        if report.interrupted and "last line is incomplete" in (report.problem or ""):
            text += "; run `assurance repair` to move the torn bytes aside"
    _emit(args, asdict(report), text)
    return 0 if report.intact else 1


def _held_checkpoint(path: Path) -> bytes:
    from assurance_pipeline.evidence.transparency import MAX_CHECKPOINT_BYTES

    try:
        with open(path, "rb") as handle:
            data = handle.read(MAX_CHECKPOINT_BYTES + 1)
    except OSError as err:
        raise EvidenceStoreError(f"--checkpoint {path}: cannot be read ({err.strerror or err})") from None
    if len(data) > MAX_CHECKPOINT_BYTES:
        raise AssuranceError(f"--checkpoint {path}: too large for a checkpoint")
    return data


def _utc(seconds: int) -> str:
    import datetime as dt

    return dt.datetime.fromtimestamp(seconds, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _existing_store(evidence: Path) -> Ledger:
    ledger = _ledger(evidence)
    if not ledger.path.is_file():
        raise EvidenceStoreError(f"{evidence}: no ledger.jsonl (not an evidence store?)")
    return ledger


def cmd_checkpoint(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.notes import vkey
    from assurance_pipeline.evidence.transparency import identity_or_fail, latest_note

    _existing_store(args.evidence)
    note = latest_note(args.evidence).decode("utf-8", "replace")
    log = identity_or_fail(args.evidence)
    key = vkey(log.origin, log.verifier.kind, log.verifier.public_key)
    _emit(args, {"checkpoint": note, "checkpoint_key": key}, note.rstrip("\n"))
    return 0


def cmd_prove(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.transparency import LogView, inclusion_document

    ledger = _existing_store(args.evidence)
    proof = inclusion_document(args.evidence, LogView.of(ledger.raw_lines()), args.entry)
    text = "\n".join([f"entry {args.entry} (leaf {proof['leaf_index']}) of a tree of {proof['tree_size']}",
                      f"leaf hash {proof['leaf_hash']}", "inclusion path:", *(f"  {h}" for h in proof["inclusion_path"]),
                      "checkpoint:", proof["checkpoint"].rstrip("\n"), f"checkpoint key: {proof['checkpoint_key']}"])
    _emit(args, proof, text)
    return 0


def cmd_witness(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.signing import load_private_key
    from assurance_pipeline.evidence.transparency import LogView, witness

    ledger = _existing_store(args.evidence)
    key = load_private_key(args.key)
    name = args.name or args.key.stem
    checkpoint, before = witness(args.evidence, LogView.of(ledger.raw_lines()), key, name, args.state)
    since = f"consistent with what you cosigned at size {before}" if before is not None else "first cosignature (nothing cosigned before)"
    _emit(args, {"witness": name, "size": checkpoint.size, "previous_size": before},
          f"cosigned {checkpoint.origin} at size {checkpoint.size} as {name}: {since}")
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.repair import repair

    done = repair(_existing_store(args.evidence))
    if done is None:
        _emit(args, {"repaired": False}, "nothing to repair: the ledger's last line is complete")
        return 0
    _emit(args, {"repaired": True, **done}, f"moved {done['bytes']} torn bytes to {done['moved_to']} and recorded the repair "
          f"as ledger entry {done['entry']}")
    return 0


def cmd_reperform(args: argparse.Namespace) -> int:
    from assurance_pipeline.sampling.reperform import reperform

    report = reperform(args.cycle_id, args.source, args.evidence)
    text = (f"re-performed: the same {report.decisions} decisions, with the same content" if report.same
            else f"MISMATCH: {report.problem}")
    _emit(args, report.to_dict(), text)
    return 0 if report.same else 1


def cmd_report(args: argparse.Namespace) -> int:
    from assurance_pipeline.evidence.sponsor_report import parse_day, write_report

    start, end = parse_day("--from", args.report_from), parse_day("--to", args.report_to)
    _existing_store(args.evidence)
    done = write_report(args.evidence, start, end, args.out)
    _emit(args, done, f"report of {done['cycles']} cycle(s) from {start} to {end} written to {done['out']}")
    return 0


def _ledger(evidence: Path) -> Ledger:
    from assurance_pipeline.evidence.ledger import Ledger

    if evidence.exists() and not evidence.is_dir():
        raise EvidenceStoreError(f"evidence store {evidence}: not a folder")
    return Ledger(evidence)


def format_result(result: dict) -> str:
    """The human-readable cycle result: the decision, a line per decision point, a line per finding."""
    from assurance_pipeline.evidence.dispositions import when
    from assurance_pipeline.sampling.plans import HYPERGEOMETRIC, format_upper_limit

    window = result["window"]
    lines = [
        f"cycle {result['cycle_id']}  window {window['from'] or 'start'} .. {window['to'] or 'end'}",
        f"standard {result['standard']['name']} v{result['standard']['version']}: {'intact' if result['standard']['intact'] else 'NOT INTACT'}",
        f"DECISION: {result['decision']} ({result.get('reason', '')})",
    ]
    for p in result["decision_points"]:
        lines.append(
            f"  {p['id']:<22} {p['risk_tier']:<8} population {p['population']:>7}  sample {p['sample_size']:>4}  deviations {p['deviations']:>3}"
            f"  upper limit {format_upper_limit(p['upper_deviation_limit']):>6} vs tolerable {p['tolerable_deviation_rate']:.1%}  {p.get('conclusion', '')}"
            + (" (hypergeometric)" if p.get("distribution") == HYPERGEOMETRIC else "")
        )
    lines.append(f"findings: {len(result['findings'])}")
    lines += [f"  {f['id']} [{f['severity']}] {f['kind']}: {f['summary']}"
              + (f" (recurrence: first seen {when(f['first_seen'])})" if f.get("recurrence_of") else "")
              for f in result["findings"]]
    lines.append(f"ledger entry {result['ledger']['entry']}, head {result['ledger']['head']}")
    lines.append(f"evidence pack: {result['evidence_pack']}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
