import json
import multiprocessing
from pathlib import Path

import pytest

from assurance_pipeline.evidence.ledger import (
    GENESIS,
    Ledger,
    LedgerError,
    canonical_json,
    sha256_hex,
)


def _filled(folder: Path, n: int) -> Ledger:
    ledger = Ledger(folder)
    for i in range(1, n + 1):
        ledger.append("cycle_decision", {"i": i, "cycle": f"c{i % 3}"})
    return ledger


def _lines(ledger: Ledger) -> list[str]:
    return ledger.path.read_text(encoding="utf-8").splitlines(keepends=True)


def _write(ledger: Ledger, lines: list[str]) -> None:
    ledger.path.write_text("".join(lines), encoding="utf-8")


def _rehash(d: dict) -> dict:
    """What a forger would do: recompute the entry's own hash after editing it."""
    content = {k: d[k] for k in ("seq", "at", "kind", "body", "prev")}
    return {**d, "hash": sha256_hex(canonical_json(content))}


def test_helpers():
    assert canonical_json({"b": 1, "a": [1, "é"]}) == '{"a":[1,"é"],"b":1}'
    assert sha256_hex("abc") == sha256_hex(b"abc")
    assert sha256_hex(b"abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_append_and_entries_round_trip(tmp_path):
    ledger = Ledger(tmp_path / "store" / "evidence")  # folder created on demand
    a = ledger.append("authorization", {"by": "alice", "scope": ["gl", "ap"]})
    b = ledger.append("sampling_plan", {"n": 60, "seed": 7})
    assert ledger.path.name == "ledger.jsonl"
    assert list(ledger.entries()) == [a, b]
    assert (a.seq, b.seq) == (1, 2)
    assert a.kind == "authorization" and a.body == {"by": "alice", "scope": ["gl", "ap"]}
    assert a.at.endswith("Z") and "T" in a.at
    assert ledger.head() == b
    assert len(_lines(ledger)) == 2


def test_empty_ledger(tmp_path):
    ledger = Ledger(tmp_path)
    assert list(ledger.entries()) == []
    assert ledger.head() is None
    report = ledger.verify()
    assert (report.intact, report.entries, report.head, report.problem) == (True, 0, None, None)


def test_chain_links(tmp_path):
    entries = list(_filled(tmp_path, 4).entries())
    assert entries[0].prev == GENESIS
    for before, after in zip(entries, entries[1:]):
        assert after.prev == before.hash
    for e in entries:
        assert e.hash == e.computed_hash()
        assert e.hash == sha256_hex(canonical_json(e.model_dump(exclude={"hash", "signature"})))


def test_entry_is_frozen(tmp_path):
    entry = Ledger(tmp_path).append("disposition", {"x": 1})
    with pytest.raises(Exception):
        entry.seq = 5


def test_verify_intact(tmp_path):
    ledger = _filled(tmp_path, 5)
    report = ledger.verify()
    assert report.intact and report.problem is None
    assert report.entries == 5
    assert report.head == ledger.head().hash


def test_verify_edited_body(tmp_path):
    ledger = _filled(tmp_path, 8)
    lines = _lines(ledger)
    lines[6] = lines[6].replace('"i":7', '"i":70')
    _write(ledger, lines)
    report = ledger.verify()
    assert not report.intact
    assert report.problem == "line 7 (seq 7): hash does not match its content (edited?)"
    assert report.entries == 6


def test_verify_edited_hash_field_only(tmp_path):
    ledger = _filled(tmp_path, 8)
    lines = _lines(ledger)
    d = json.loads(lines[4])
    d["hash"] = "f" * 64
    lines[4] = canonical_json(d) + "\n"
    _write(ledger, lines)
    assert ledger.verify().problem == "line 5 (seq 5): hash does not match its content (edited?)"


def test_verify_edited_body_with_recomputed_hash_breaks_chain(tmp_path):
    ledger = _filled(tmp_path, 8)
    lines = _lines(ledger)
    d = json.loads(lines[4])
    d["body"]["i"] = 500
    lines[4] = canonical_json(_rehash(d)) + "\n"
    _write(ledger, lines)
    report = ledger.verify()
    assert not report.intact
    assert report.problem == "line 6 (seq 6): prev hash does not match line 5's hash (removed or reordered?)"
    assert report.entries == 5


def test_verify_removed_middle_line(tmp_path):
    ledger = _filled(tmp_path, 8)
    lines = _lines(ledger)
    del lines[4]
    _write(ledger, lines)
    report = ledger.verify()
    assert not report.intact
    assert report.problem == "line 5: seq 6 follows seq 4 (an entry was removed or reordered)"


def test_verify_removed_line_with_renumbered_seq(tmp_path):
    ledger = _filled(tmp_path, 5)
    lines = _lines(ledger)
    del lines[2]
    d = json.loads(lines[2])  # was seq 4, forged to seq 3
    d["seq"] = 3
    lines[2] = canonical_json(_rehash(d)) + "\n"
    _write(ledger, lines)
    assert ledger.verify().problem == (
        "line 3 (seq 3): prev hash does not match line 2's hash (removed or reordered?)"
    )


def test_verify_removed_first_line(tmp_path):
    ledger = _filled(tmp_path, 3)
    _write(ledger, _lines(ledger)[1:])
    report = ledger.verify()
    assert not report.intact and report.problem.startswith("line 1: seq 2 ")


def test_verify_swapped_lines(tmp_path):
    ledger = _filled(tmp_path, 6)
    lines = _lines(ledger)
    lines[2], lines[3] = lines[3], lines[2]
    _write(ledger, lines)
    report = ledger.verify()
    assert not report.intact
    assert report.problem == "line 3: seq 4 follows seq 2 (an entry was removed or reordered)"
    assert report.entries == 2


@pytest.mark.parametrize(
    "bad, expected",
    [
        ("{not json\n", "line 4: not valid JSON"),
        ("\n", "line 4: not valid JSON"),
        ("[1, 2]\n", "line 4: not a ledger entry"),
        ('{"seq": 4}\n', "line 4: not a ledger entry"),
    ],
)
def test_verify_garbage_line(tmp_path, bad, expected):
    ledger = _filled(tmp_path, 6)
    lines = _lines(ledger)
    lines[3] = bad
    _write(ledger, lines)
    report = ledger.verify()
    assert not report.intact and report.entries == 3
    assert report.problem.startswith(expected)
    with pytest.raises(LedgerError, match=r": line 4: "):
        list(ledger.entries())


def test_verify_extra_field_is_not_an_entry(tmp_path):
    ledger = _filled(tmp_path, 3)
    lines = _lines(ledger)
    d = json.loads(lines[1])
    d["note"] = "unhashed extra"
    lines[1] = canonical_json(d) + "\n"
    _write(ledger, lines)
    assert ledger.verify().problem.startswith("line 2: not a ledger entry")


def test_verify_invalid_utf8_and_truncated_tail(tmp_path):
    ledger = _filled(tmp_path, 3)
    data = ledger.path.read_bytes()
    ledger.path.write_bytes(data + b"\xff\xfe garbage\n")
    assert ledger.verify().problem == "line 4: not UTF-8 text"
    ledger.path.write_bytes(data[:-10])  # torn last line
    report = ledger.verify()
    assert not report.intact and report.entries == 2 and report.interrupted
    assert report.problem == "line 3: the last line is incomplete: a write was interrupted"


@pytest.mark.parametrize("damage", ["truncate", "edit", "garbage", "no_newline"])
def test_append_refuses_broken_tail(tmp_path, damage):
    ledger = _filled(tmp_path, 3)
    data = ledger.path.read_bytes()
    if damage == "truncate":
        data = data[:-15]
    elif damage == "edit":
        data = data.replace(b'"i":3', b'"i":4')
    elif damage == "garbage":
        data = data + b"\x00\x00\x00"
    else:  # a complete entry whose newline never made it to disk
        data = data[:-1]
    ledger.path.write_bytes(data)
    with pytest.raises(LedgerError, match="line"):
        ledger.append("disposition", {"ok": True})
    assert ledger.path.read_bytes() == data


def test_non_serializable_body_leaves_file_unchanged(tmp_path):
    ledger = _filled(tmp_path, 2)
    before = ledger.path.read_bytes()
    with pytest.raises(TypeError):
        ledger.append("disposition", {"when": object()})
    with pytest.raises(TypeError):
        ledger.append("disposition", {"tags": {"a", "b"}})
    with pytest.raises(TypeError):
        ledger.append("disposition", ["not", "a", "dict"])
    assert ledger.path.read_bytes() == before
    assert ledger.append("disposition", {"ok": True}).seq == 3


def test_non_serializable_body_creates_nothing(tmp_path):
    folder = tmp_path / "fresh"
    with pytest.raises(TypeError):
        Ledger(folder).append("disposition", {"x": object()})
    assert not (folder / "ledger.jsonl").exists()


def test_returned_entry_matches_what_is_read_back(tmp_path):
    ledger = Ledger(tmp_path)
    entry = ledger.append("sampling_plan", {"strata": {1: (1, 2)}, "x": None})
    assert entry.body == {"strata": {"1": [1, 2]}, "x": None}
    assert ledger.head() == entry
    assert ledger.verify().intact


def _worker(folder: str, worker: int, count: int) -> None:
    ledger = Ledger(Path(folder))
    for i in range(count):
        ledger.append("cycle_decision", {"worker": worker, "i": i})


def test_concurrent_appends_from_processes(tmp_path):
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_worker, args=(str(tmp_path), w, 25)) for w in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=120)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    ledger = Ledger(tmp_path)
    report = ledger.verify()
    assert report.intact, report.problem
    assert report.entries == 100
    entries = list(ledger.entries())
    assert [e.seq for e in entries] == list(range(1, 101))
    assert sorted((e.body["worker"], e.body["i"]) for e in entries) == [
        (w, i) for w in range(4) for i in range(25)
    ]
    assert (tmp_path / "ledger.lock").exists()


def test_find_filters(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append("authorization", {"cycle": "c1", "by": "alice"})
    ledger.append("cycle_decision", {"cycle": "c1", "decision": "go"})
    ledger.append("cycle_decision", {"cycle": "c2", "decision": "go"})
    ledger.append("cycle_decision", {"cycle": "c2", "decision": "hold"})
    assert [e.seq for e in ledger.find("cycle_decision")] == [2, 3, 4]
    assert [e.seq for e in ledger.find("cycle_decision", cycle="c2")] == [3, 4]
    assert [e.seq for e in ledger.find("cycle_decision", cycle="c2", decision="go")] == [3]
    assert [e.seq for e in ledger.find("authorization", cycle="c2")] == []
    assert ledger.find("cycle_decision", missing_key=None) == []
    assert ledger.find("nothing") == []
