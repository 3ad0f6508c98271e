"""A damaged, forged, half-written or unwritable evidence store: `verify` names what is wrong (exit 1) and the
commands that write the store name it when they cannot (exit 3); never a traceback."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import shutil
from pathlib import Path

import pytest

from assurance_pipeline.cli import main
from assurance_pipeline.errors import EvidenceStoreError
from assurance_pipeline.evidence.checkpoints import identity, store_key, write_checkpoint
from assurance_pipeline.evidence.ledger import Ledger, canonical_json, sha256_hex
from assurance_pipeline.evidence.packs import write_pack


def _verify(capsys, store: Path) -> tuple[int, str, str]:
    code = main(["verify", "--evidence", str(store)])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def _tampered(capsys, store: Path, *fragments: str, heading: str = "TAMPERED") -> str:
    """verify exits 1 with its one line on stdout, naming every fragment, and nothing on stderr."""
    code, out, err = _verify(capsys, store)
    assert code == 1 and err == ""
    lines = out.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"{heading}: "), out
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"
    return lines[0]


def _forge(store: Path, seq: int, edit) -> None:
    """What a forger without a key does: edit entry ``seq`` (a dict) and re-hash it and every entry after it."""
    path = store / "ledger.jsonl"
    entries = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    edit(entries[seq - 1])
    for i, e in enumerate(entries):
        if i >= seq - 1:
            e["prev"] = entries[i - 1]["hash"] if i else "0" * 64
            e["hash"] = sha256_hex(canonical_json({k: e[k] for k in ("seq", "at", "kind", "body", "prev")}))
    path.write_text("".join(canonical_json(e) + "\n" for e in entries), encoding="utf-8")


def _resign_checkpoints(store: Path) -> None:
    """What a forger who also holds the store's checkpoint key does after `_forge`: sign the forged history anew."""
    key = store_key()
    log = identity(store, key)
    shutil.rmtree(store / "checkpoints")
    lines = Ledger(store).raw_lines()
    for size in range(1, len(lines) + 1):
        write_checkpoint(store, lines[:size], log, key)


def _cycle_seq(store: Path) -> int:
    return next(e.seq for e in Ledger(store).entries() if e.kind == "cycle_decision")


def _pack(store: Path) -> Path:
    return next((store / "packs").iterdir())


# ---------------------------------------------------------------------------------------------------
# Malformed entries: named by line and seq, exit 1, never a traceback.
# ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("edit, fragment", [
    (lambda b: b.pop("pack_sha256"), "has no pack_sha256"),
    (lambda b: b.update(pack_sha256=["summary.md"]), "has no pack_sha256"),
    (lambda b: b.update(pack_sha256={"summary.md": 5}), "pack_sha256['summary.md'] is not a sha256 hex digest"),
    (lambda b: b.update(pack_sha256={"../../ledger.jsonl": "0" * 64}), "names '../../ledger.jsonl', not a file name"),
    (lambda b: b.pop("cycle_id"), "no valid cycle_id (got None)"),
    (lambda b: b.update(cycle_id=10 ** 40), "no valid cycle_id"),
    (lambda b: b.update(cycle_id="../packs"), "no valid cycle_id (got '../packs')"),
])
def test_a_forged_cycle_decision_is_named_not_a_traceback(capsys, store, edit, fragment):
    seq = _cycle_seq(store)
    _forge(store, seq, lambda e: edit(e["body"]))
    _tampered(capsys, store, "checkpoints/", "its history was rewritten")  # without the store's key
    _resign_checkpoints(store)
    _tampered(capsys, store, f"line {seq} (seq {seq}): ", fragment)  # with it, the entry itself is still caught


def test_a_cycle_recorded_twice_is_named(capsys, store):
    ledger = Ledger(store)
    first = next(e for e in ledger.entries() if e.kind == "cycle_decision")
    ledger.append("cycle_decision", first.body)
    _tampered(capsys, store, "line 4 (seq 4)", f"cycle {first.body['cycle_id']} is recorded twice")


@pytest.mark.parametrize("line, fragment", [
    (b"[1, 2]", "line 2: not a ledger entry"),
    (b"12345", "line 2: not a ledger entry"),
    (b"null", "line 2: not a ledger entry"),
    (b"9" * 5000, "line 2: not valid JSON"),
    (b'{"seq": 1e999}', "line 2: not a ledger entry"),
    (b"\xff\xfe\xfd", "line 2: not UTF-8 text"),
])
def test_a_line_that_is_not_an_entry_is_named(capsys, store, line, fragment):
    path = store / "ledger.jsonl"
    lines = path.read_bytes().split(b"\n")
    lines[1] = line
    path.write_bytes(b"\n".join(lines))
    _tampered(capsys, store, fragment)


def test_an_entry_with_a_huge_sequence_number_is_named(capsys, store):
    _forge(store, 2, lambda e: e.update(seq=10 ** 30))
    _tampered(capsys, store, f"line 2: seq {10 ** 30} follows seq 1")


def test_an_entry_not_written_the_way_the_ledger_writes_is_named(capsys, store):
    path = store / "ledger.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines[1] = lines[1].replace('","', '", "', 1)  # same values, so the same hash: another byte all the same
    path.write_text("".join(lines), encoding="utf-8")
    _tampered(capsys, store, "line 2 (seq 2): not written the way the ledger writes its lines")


def test_a_torn_last_line_is_named_as_an_interrupted_write(capsys, store):
    path = store / "ledger.jsonl"
    path.write_bytes(path.read_bytes()[:-30])
    _tampered(capsys, store, "line 3: the last line is incomplete: a write was interrupted", heading="INTERRUPTED")


# ---------------------------------------------------------------------------------------------------
# Packs: every file and folder must be one the ledger lists.
# ---------------------------------------------------------------------------------------------------


def test_a_pack_file_that_is_not_utf8_is_named(capsys, store):
    pack = _pack(store)
    (pack / "summary.md").write_bytes(b"\xff\xfe" + (pack / "summary.md").read_bytes())
    _tampered(capsys, store, f"packs/{pack.name}/summary.md: content does not match the ledger")


def test_a_file_added_to_a_pack_is_named(capsys, store):
    pack = _pack(store)
    (pack / "note.txt").write_text("added later\n", encoding="utf-8")
    _tampered(capsys, store, f"packs/{pack.name}/note.txt: not listed in the ledger entry of this pack")


def test_a_folder_added_to_a_pack_is_named(capsys, store):
    pack = _pack(store)
    (pack / ".hidden").mkdir()
    _tampered(capsys, store, f"packs/{pack.name}/.hidden: not listed in the ledger entry of this pack")


def test_a_stray_file_among_the_packs_is_named(capsys, store):
    (store / "packs" / "README").write_text("x", encoding="utf-8")
    _tampered(capsys, store, "packs/README: not an evidence pack")


def test_a_partial_pack_never_recorded_is_named(capsys, store):
    partial = store / "packs" / ".run-killed.partial"
    partial.mkdir()
    (partial / "summary.md").write_text("half a pack", encoding="utf-8")
    _tampered(capsys, store, "packs/.run-killed.partial: a pack whose write was interrupted before it was recorded",
              heading="INTERRUPTED")


def test_a_partial_pack_still_being_written_is_not_a_problem(capsys, store):
    partial = store / "packs" / ".run-in-flight.partial"
    partial.mkdir()
    fd = os.open(partial, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # what a cycle writing its pack holds
        assert _verify(capsys, store)[0] == 0
    finally:
        os.close(fd)
    _tampered(capsys, store, "packs/.run-in-flight.partial: a pack whose write was interrupted", heading="INTERRUPTED")


def test_a_pack_interrupted_after_its_entry_can_be_completed(capsys, store):
    pack = _pack(store)
    partial = pack.with_name(f".{pack.name}.partial")
    pack.rename(partial)  # killed between the ledger append and the rename
    _tampered(capsys, store, f"packs/{partial.name}: the write of pack {pack.name} was interrupted after its ledger entry",
              f"its files match the ledger: rename it to packs/{pack.name}", heading="INTERRUPTED")
    partial.rename(pack)
    assert _verify(capsys, store)[0] == 0


def test_a_failed_seal_leaves_no_partial_pack(tmp_path):
    def seal(final, hashes):
        raise EvidenceStoreError("disk full")

    with pytest.raises(EvidenceStoreError):
        write_pack(tmp_path, "c1", {"a.json": {"x": 1}}, seal)
    assert list((tmp_path / "packs").iterdir()) == []


def test_a_sealed_pack_is_moved_into_place_after_its_entry(tmp_path):
    seen = []
    entry = write_pack(tmp_path, "c1", {"a.json": {"x": 1}, "b.md": "text\n"},
                       lambda final, hashes: seen.append(sorted(p.name for p in final.parent.iterdir())) or hashes)
    assert seen == [[".c1.partial"]]  # while the entry is written, the pack is still aside
    assert sorted(p.name for p in (tmp_path / "packs").iterdir()) == ["c1"]
    assert entry == {"a.json": sha256_hex((tmp_path / "packs/c1/a.json").read_bytes()), "b.md": sha256_hex("text\n")}


# ---------------------------------------------------------------------------------------------------
# A store that cannot be written or read: exit 3 naming it, nothing half-written.
# ---------------------------------------------------------------------------------------------------


def _one_error(capsys, code: int, *fragments: str) -> None:
    out, err = capsys.readouterr()
    assert code == 3, err
    assert "Traceback" not in out + err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("assurance: error: "), err
    for fragment in fragments:
        assert fragment in lines[0], f"{fragment!r} not in {lines[0]!r}"


@pytest.fixture
def demo_dir(recorded_store: Path, tmp_path: Path) -> Path:
    """The demo's standard (authorized) and decision log, beside a copy of its store."""
    root = tmp_path / "demo"
    shutil.copytree(recorded_store.parent, root)
    return root


@pytest.fixture
def read_only(monkeypatch):
    """Opening anything inside ``folder`` for writing fails with EACCES (tests run as root, so chmod cannot)."""
    real_open, real_mkdir = os.open, os.mkdir

    def deny(folder: Path):
        def fake_open(path, flags, *args, **kwargs):
            if Path(path).is_relative_to(folder) and flags & (os.O_WRONLY | os.O_RDWR):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_open(path, flags, *args, **kwargs)

        def fake_mkdir(path, *args, **kwargs):
            if Path(path).is_relative_to(folder):
                raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str(path))
            return real_mkdir(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", fake_open)
        monkeypatch.setattr(os, "mkdir", fake_mkdir)

    return deny


@pytest.fixture
def disk_full(monkeypatch):
    """Writes to files inside ``folder`` stop short: ``fraction`` of the bytes land, then ENOSPC."""
    real_write = os.write

    def fill(folder: Path, fraction: float = 0.5):
        def fake_write(fd, data):
            if Path(os.readlink(f"/proc/self/fd/{fd}")).is_relative_to(folder):
                n = int(len(data) * fraction)
                if n == 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return real_write(fd, bytes(data)[:n])
            return real_write(fd, data)

        monkeypatch.setattr(os, "write", fake_write)

    return fill


def _finding(store: Path) -> str:
    return next(f["id"] for e in Ledger(store).entries() if e.kind == "cycle_decision" for f in e.body["findings"])


@pytest.mark.parametrize("fraction", [0.0, 0.5, 0.99])
def test_a_full_disk_leaves_no_partial_line(store, disk_full, fraction):
    before = (store / "ledger.jsonl").read_bytes()
    disk_full(store, fraction)
    with pytest.raises(EvidenceStoreError, match=f"evidence store {store}: cannot append to ledger.jsonl .*nothing was appended"):
        Ledger(store).append("disposition", {"finding_id": "F-1"})
    assert (store / "ledger.jsonl").read_bytes() == before
    assert Ledger(store).verify().intact


def test_dispose_on_a_full_disk_exits_3_naming_the_store(capsys, store, disk_full):
    finding, before = _finding(store), (store / "ledger.jsonl").read_bytes()
    disk_full(store)
    code = main(["dispose", finding, "--as", "remediate", "--by", "Controller", "--note", "re-trained", "--evidence", str(store)])
    _one_error(capsys, code, f"evidence store {store}", "No space left on device", "nothing was appended")
    assert (store / "ledger.jsonl").read_bytes() == before


def test_dispose_in_a_read_only_store_exits_3_naming_it(capsys, store, read_only):
    finding, before = _finding(store), (store / "ledger.jsonl").read_bytes()
    read_only(store)
    code = main(["dispose", finding, "--as", "remediate", "--by", "Controller", "--note", "re-trained", "--evidence", str(store)])
    _one_error(capsys, code, f"evidence store {store}", "Permission denied")
    assert (store / "ledger.jsonl").read_bytes() == before


def test_authorize_into_a_read_only_store_exits_3_and_signs_nothing(capsys, demo_dir, read_only):
    store, standard = demo_dir / "evidence", demo_dir / "standard"
    (standard / "authorization.yaml").unlink()
    read_only(store)
    code = main(["authorize", "--standard", str(standard), "--by", "CFO", "--evidence", str(store)])
    _one_error(capsys, code, f"evidence store {store}", "Permission denied")
    assert not (standard / "authorization.yaml").exists()


def test_a_cycle_into_a_read_only_store_exits_3_naming_it(capsys, demo_dir, read_only):
    store = demo_dir / "evidence"
    before = (store / "ledger.jsonl").read_bytes()
    read_only(store)
    code = main(["cycle", "--standard", str(demo_dir / "standard"), "--source", str(demo_dir / "decisions.parquet"),
                 "--evidence", str(store)])
    _one_error(capsys, code, f"evidence store {store}", "Permission denied")
    assert (store / "ledger.jsonl").read_bytes() == before
    assert sorted(p.name for p in (store / "packs").iterdir()) == [_pack(store).name]


@pytest.mark.parametrize("command", ["cycle", "authorize", "dispose", "findings", "verify"])
def test_a_store_path_that_is_a_file_exits_3_naming_it(capsys, demo_dir, command):
    store = demo_dir / "evidence.txt"
    store.write_text("not a store", encoding="utf-8")
    argv = {
        "cycle": ["cycle", "--standard", str(demo_dir / "standard"), "--source", str(demo_dir / "decisions.parquet")],
        "authorize": ["authorize", "--standard", str(demo_dir / "standard"), "--by", "CFO"],
        "dispose": ["dispose", "F-1", "--as", "remediate", "--by", "Controller", "--note", "x"],
        "findings": ["findings"], "verify": ["verify"],
    }[command]
    code = main([*argv, "--evidence", str(store)])
    _one_error(capsys, code, str(store), "not a folder")
    assert store.read_text(encoding="utf-8") == "not a store"


def test_an_unreadable_ledger_exits_3_naming_the_store(capsys, store):
    (store / "ledger.jsonl").unlink()
    (store / "ledger.jsonl").mkdir()  # read() fails: EISDIR
    code = main(["findings", "--evidence", str(store)])
    _one_error(capsys, code, f"evidence store {store}", "cannot read ledger.jsonl")


def test_reperform_of_a_forged_cycle_decision_is_named(capsys, demo_dir):
    store = demo_dir / "evidence"
    seq = _cycle_seq(store)
    cycle_id = next(e.body["cycle_id"] for e in Ledger(store).entries() if e.kind == "cycle_decision")
    _forge(store, seq, lambda e: e["body"].pop("pack_sha256"))
    code = main(["reperform", cycle_id, "--source", str(demo_dir / "decisions.parquet"), "--evidence", str(store)])
    _one_error(capsys, code, f"evidence store {store}: line {seq} (seq {seq})", "run `assurance verify`")
