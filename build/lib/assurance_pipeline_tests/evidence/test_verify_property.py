"""Property: whatever damage a real evidence store takes (its ledger, packs, checkpoints or identity), `assurance verify`
exits 0 or 1 with its one line on stdout, never a traceback, and exits 1 whenever any byte changed; given a checkpoint
kept outside the store, also when the store was rolled back to an earlier, consistent state."""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assurance_pipeline.cli import main

NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789._-", min_size=1, max_size=12).filter(lambda n: n not in (".", ".."))
BYTES = st.binary(min_size=1, max_size=8) | st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\n", b" ", b"\x00"])


def _ledger_damage(draw, data: bytes) -> bytes:
    lines = data.split(b"\n")[:-1]  # whole lines; an earlier damage may have left a tail without newline
    at = draw(st.integers(0, max(len(data) - 1, 0)))
    kind = draw(st.sampled_from(["flip", "delete", "insert", "truncate"] + (["duplicate", "drop", "swap"] if lines else [])))
    line = draw(st.integers(0, max(len(lines) - 1, 0)))
    if not data:
        return draw(BYTES)
    if kind == "flip":
        return data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:]
    if kind == "delete":
        return data[:at] + data[at + draw(st.integers(1, 20)):]
    if kind == "insert":
        return data[:at] + draw(BYTES) + data[at:]
    if kind == "truncate":
        return data[:at]
    if kind == "duplicate":
        lines.insert(line, lines[line])
    elif kind == "drop":
        del lines[line]
    else:
        other = draw(st.integers(0, len(lines) - 1))
        lines[line], lines[other] = lines[other], lines[line]
    return b"".join(raw + b"\n" for raw in lines)


def _pack_damage(draw, store: Path) -> None:
    packs = store / "packs"
    pack = draw(st.sampled_from(sorted(p for p in packs.iterdir() if p.is_dir())))
    files = sorted(p for p in pack.iterdir() if p.is_file())
    kind = draw(st.sampled_from(["alter", "truncate", "append", "delete", "add_file", "add_dir", "add_partial", "remove_pack"]))
    if kind in ("alter", "truncate", "append", "delete") and files:
        path = draw(st.sampled_from(files))
        data = path.read_bytes()
        at = draw(st.integers(0, max(len(data) - 1, 0)))
        if kind == "alter" and data:
            path.write_bytes(data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:])
        elif kind == "truncate":
            path.write_bytes(data[:at])
        elif kind == "append":
            path.write_bytes(data + draw(BYTES))
        else:
            path.unlink()
    elif kind == "add_file":
        target = draw(st.sampled_from([pack, packs]))
        name = draw(NAME)
        if not (target / name).exists():
            (target / name).write_bytes(draw(BYTES))
    elif kind == "add_dir":
        name = draw(NAME)
        if not (pack / name).exists():
            (pack / name).mkdir()
    elif kind == "add_partial":
        partial = packs / f".{draw(NAME)}.partial"
        partial.mkdir(exist_ok=True)
        (partial / "summary.md").write_bytes(draw(BYTES))
    elif kind == "remove_pack":
        shutil.rmtree(pack)


def _checkpoint_damage(draw, store: Path) -> None:
    checkpoints = sorted((store / "checkpoints").iterdir())
    kind = draw(st.sampled_from(["alter", "append", "delete_latest", "add_file", "store_json"]))
    if kind in ("alter", "append"):
        path = draw(st.sampled_from(checkpoints))
        data = path.read_bytes()
        if kind == "alter":
            at = draw(st.integers(0, len(data) - 1))
            path.write_bytes(data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:])
        else:
            path.write_bytes(data + draw(BYTES))
    elif kind == "delete_latest":
        checkpoints[-1].unlink()
    elif kind == "add_file":
        name = draw(NAME)
        if not (store / "checkpoints" / name).exists():
            (store / "checkpoints" / name).write_bytes(draw(BYTES))
    else:
        path = store / "store.json"
        data = path.read_bytes()
        at = draw(st.integers(0, len(data) - 1))
        path.write_bytes(data[:at] + bytes([data[at] ^ draw(st.integers(1, 255))]) + data[at + 1:])


def _snapshot(store: Path) -> dict[str, object]:
    """Every file (its bytes) and folder (None) of the store but the lock file, which holds nothing; store.json as
    what it says, since it is read as JSON (a flipped byte that turns a newline into a tab changes nothing)."""
    return {p.relative_to(store).as_posix(): (_content(p) if p.is_file() else None)
            for p in sorted(store.rglob("*")) if p.name != "ledger.lock"}


def _content(path: Path) -> object:
    data = path.read_bytes()
    if path.name == "store.json":
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data


def _an_earlier_state(damaged: dict[str, bytes | None], original: dict[str, bytes | None]) -> bool:
    """A rollback, not damage: the ledger cut at a line end, with exactly the packs of the cycles left in it and the
    checkpoints of its sizes. Only a checkpoint held elsewhere can tell it from the store as it once was."""
    ledger, kept = damaged.get("ledger.jsonl"), original["ledger.jsonl"]
    if ledger is None or not kept.startswith(ledger) or (ledger and not ledger.endswith(b"\n")):
        return False
    size = len(ledger.splitlines())
    cycles = {json.loads(line)["body"]["cycle_id"] for line in ledger.splitlines() if json.loads(line).get("kind") == "cycle_decision"}
    expected = {name: content for name, content in original.items()
                if (not name.startswith("packs/") or name == "packs" or name.split("/")[1] in cycles)
                and (not name.startswith("checkpoints/") or int(name[12:24]) <= size)}
    return damaged == {**expected, "ledger.jsonl": ledger}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_verify_names_any_damage_and_never_tracebacks(recorded_store: Path, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "evidence"
        shutil.copytree(recorded_store, store)
        held = Path(tmp) / "held.note"
        held.write_bytes(max((recorded_store / "checkpoints").iterdir()).read_bytes())
        for _ in range(data.draw(st.integers(1, 3), label="damages")):
            what = data.draw(st.sampled_from(["ledger", "pack", "checkpoint"]), label="what")
            if what == "ledger":
                ledger = store / "ledger.jsonl"
                ledger.write_bytes(_ledger_damage(data.draw, ledger.read_bytes()))
            elif what == "pack" and (store / "packs").is_dir() and any(p.is_dir() for p in (store / "packs").iterdir()):
                _pack_damage(data.draw, store)
            elif what == "checkpoint" and any((store / "checkpoints").iterdir()):
                _checkpoint_damage(data.draw, store)
        store_snapshot = _snapshot(store)
        changed = store_snapshot != _snapshot(recorded_store)
        with_held = data.draw(st.booleans(), label="with a held checkpoint?")
        if with_held and data.draw(st.booleans(), label="damage the held checkpoint?"):
            kept = held.read_bytes()
            at = data.draw(st.integers(0, len(kept) - 1))
            held.write_bytes(kept[:at] + data.draw(BYTES) + kept[at + 1:])
            changed = changed or held.read_bytes() != kept

        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["verify", "--evidence", str(store), *(["--checkpoint", str(held)] if with_held else [])])
        out, err = out.getvalue(), err.getvalue()

    assert "Traceback" not in out + err
    assert err == "", err
    assert len(out.splitlines()) == (2 if code == 0 and with_held else 1), out
    if changed and (with_held or not _an_earlier_state(store_snapshot, _snapshot(recorded_store))):
        assert code == 1, f"damage not detected: {out}"
        assert out.startswith(("TAMPERED: ", "INTERRUPTED: ")), out
    else:
        assert code == 0 and out.startswith("intact: "), out
