"""A bundle for a reader of part of the log: the entries outside their scope withheld as leaf hashes.

The verifier still checks every checkpoint's root over every leaf, the hash
chain through the withheld leaves, and each record's chain, which may pass
through a withheld entry only forward.
"""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from caliber.ledger import canonical, merkle, note, verify
from caliber.ledger.verify import VerificationError, verify_bundle
from tests.ledger.test_verify_parallel import ORIGIN, SKEY, VKEY, events

SIZE = 120


def withhold(lines: list[bytes], hidden: set[int]) -> list[bytes]:
    return [b"#" + base64.b64encode(merkle.leaf_hash(line)) if n in hidden else line for n, line in enumerate(lines)]


def write(path: Path, lines: list[bytes], *, leaves: list[bytes] | None = None, announced: int | None = None) -> Path:
    """A bundle of ``lines`` (some maybe withheld) with one checkpoint over ``leaves`` (default: the lines' own)."""
    if leaves is None:
        leaves = [base64.b64decode(line[1:]) if line[:1] == b"#" else merkle.leaf_hash(line) for line in lines]
    signed = note.sign(note.format_checkpoint(note.Checkpoint(ORIGIN, len(leaves), merkle.root(leaves))), SKEY)
    withheld = sum(line[:1] == b"#" for line in lines) if announced is None else announced
    with path.open("wb") as out:
        out.write(f"{verify.BUNDLE_FORMAT}\norigin {ORIGIN}\ncheckpoints 1\n".encode())
        out.write(base64.b64encode(signed.encode()) + b"\n")
        out.write(f"entries {len(lines)}".encode() + (f" withheld {withheld}".encode() if withheld else b"") + b"\n")
        out.writelines(line + b"\n" for line in lines)
    return path


def check(path: Path, **options: object) -> verify.Report:
    with path.open("rb") as stream:
        return verify_bundle(stream, VKEY, **options)  # type: ignore[arg-type]


def refusal(path: Path, **options: object) -> str:
    with pytest.raises(VerificationError) as refused:
        check(path, **options)
    return str(refused.value)


HONEST = events(SIZE)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hidden=st.sets(st.integers(0, SIZE - 1)))
def test_any_choice_of_withheld_entries_verifies_and_is_counted(tmp_path: Path, hidden: set[int]) -> None:
    report = check(write(tmp_path / "b", withhold(HONEST, hidden)))
    assert (report.entries, report.withheld) == (SIZE, len(hidden))
    assert report.latest_root == merkle.root([merkle.leaf_hash(line) for line in HONEST])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hidden=st.sets(st.integers(0, SIZE - 1), max_size=60), changed=st.integers(0, SIZE - 1), at=st.integers(0, 10_000))
def test_a_changed_entry_shown_or_withheld_fails(tmp_path: Path, hidden: set[int], changed: int, at: int) -> None:
    lines = withhold(HONEST, hidden)
    line = bytearray(lines[changed])
    position = 1 + at % (len(line) - 1)  # past the opening brace or the #
    line[position] = ord("A") if line[position] != ord("A") else ord("B")
    lines[changed] = bytes(line)
    leaves = [merkle.leaf_hash(line) for line in HONEST]  # the checkpoint the log signed
    assert "entry" in refusal(write(tmp_path / "b", lines, leaves=leaves)) or changed in hidden


def test_a_withheld_entry_removed_fails(tmp_path: Path) -> None:
    leaves = [merkle.leaf_hash(line) for line in HONEST]
    lines = withhold(HONEST, {40, 41})
    del lines[40]
    assert refusal(write(tmp_path / "b", lines, leaves=leaves)).startswith("entry 41: names log")  # it says 42
    tail = withhold(HONEST, {SIZE - 2, SIZE - 1})[:-1]
    assert "covers entries the bundle lacks" in refusal(write(tmp_path / "tail", tail, leaves=leaves))


def test_the_withheld_count_must_be_the_one_announced(tmp_path: Path) -> None:
    lines = withhold(HONEST, {3, 9})
    assert "announces 1 withheld entries but withholds 2" in refusal(write(tmp_path / "b", lines, announced=1))
    full = tmp_path / "full"
    write(full, lines)
    full.write_bytes(full.read_bytes().replace(b"entries 120 withheld 2\n", b"entries 120\n"))
    assert "announces 0 withheld entries but withholds 2" in refusal(full)


@pytest.mark.parametrize("line", [b"#", b"#not base64!", b"#" + base64.b64encode(b"short"), b"#" + base64.b64encode(bytes(32))[:-1] + b"x"])
def test_a_withheld_line_that_is_not_a_leaf_hash_is_named(tmp_path: Path, line: bytes) -> None:
    lines = withhold(HONEST, {5})
    lines[5] = line
    leaves = [merkle.leaf_hash(line) for line in HONEST]
    assert "entry 5: withheld, but its line is not # and the base64 of a leaf hash" in refusal(write(tmp_path / "b", lines, leaves=leaves))


def chained(specs: list[tuple[list[str], dict[str, int]]]) -> list[bytes]:
    """Entries with the subjects and the ``subject_prev`` claims given (claims a dishonest log may make)."""
    lines: list[bytes] = []
    prev: str | None = None
    for seq, (subjects, claims) in enumerate(specs):
        line = canonical.encode(
            {
                "actor": {"id": None, "name": "operator", "role": "admin"},
                "data": {"n": seq},
                "log": ORIGIN,
                "prev": prev,
                "seq": seq,
                "subject_prev": claims,
                "subjects": sorted(subjects),
                "time": "2026-12-03T10:00:00.000001Z",
                "type": "item.moved",
                "v": 1,
            }
        )
        prev = base64.b64encode(merkle.leaf_hash(line)).decode()
        lines.append(line)
    return lines


# Record a: entries 0, 2, 4; record b: entries 1, 3. Entry 3 is about b alone, so a reader of a only gets its hash.
TWO_RECORDS = [(["a"], {}), (["b"], {}), (["a", "b"], {"a": 0, "b": 1}), (["b"], {"b": 2}), (["a", "b"], {"a": 2, "b": 3})]


def test_a_records_chain_may_pass_forward_through_a_withheld_entry_and_is_named(tmp_path: Path) -> None:
    lines = chained(TWO_RECORDS)
    assert check(write(tmp_path / "full", lines)).crossed == []
    report = check(write(tmp_path / "b", withhold(lines, {1, 3})))
    assert report.withheld == 2
    assert report.crossed == ["b"]  # b's chain runs 2 -> 3 (withheld) -> 4
    assert "the history of b is not whole" in refusal(tmp_path / "b", whole=["b"])
    assert check(tmp_path / "b", whole=["a"]).crossed == ["b"]
    assert "the bundle shows no entry of c" in refusal(tmp_path / "b", whole=["c"])


def test_a_records_chain_never_reaches_back_past_its_last_entry_shown(tmp_path: Path) -> None:
    # entry 4 claims b's previous entry is 1 (withheld), but entry 2 shown is b's later one: the chain broke
    lines = chained([*TWO_RECORDS[:4], (["a", "b"], {"a": 2, "b": 1})])
    assert "custody chain of b breaks" in refusal(write(tmp_path / "b", withhold(lines, {1, 3})))
    assert "custody chain of b breaks" in refusal(write(tmp_path / "full", lines))


def test_a_records_chain_never_claims_a_shown_entry_of_another_record(tmp_path: Path) -> None:
    lines = chained([*TWO_RECORDS[:3], (["c"], {"c": 0}), (["a"], {"a": 2})])  # entry 0 is a's, not c's
    assert "custody chain of c breaks" in refusal(write(tmp_path / "b", withhold(lines, {1})))


def test_a_first_entry_shown_may_claim_only_a_withheld_one(tmp_path: Path) -> None:
    lines = chained([(["a"], {}), (["b"], {}), (["b"], {"b": 1})])
    assert check(write(tmp_path / "ok", withhold(lines, {1}))).crossed == ["b"]
    assert "custody chain of b breaks" in refusal(write(tmp_path / "bad", chained([(["a"], {}), (["b"], {"b": 0})])))


def test_workers_hand_a_bundle_with_withheld_entries_to_one_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(verify, "PARALLEL_FROM", 0)
    started: list[int] = []
    monkeypatch.setattr(verify, "_walk_parallel", lambda *args, **kwargs: started.append(1))
    assert check(write(tmp_path / "b", withhold(HONEST, {7})), jobs=2).withheld == 1
    assert started == []


def test_the_command_says_what_was_withheld(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bundle = write(tmp_path / "b", withhold(chained(TWO_RECORDS), {1, 3}))
    assert verify.main([str(bundle), "--log-key", VKEY]) == 0
    out = capsys.readouterr().out
    assert "5 entries (2 of them withheld: outside the reader's scope, only their hashes)" in out
    assert "Records whose history passes through withheld entries: b" in out
    assert verify.main([str(bundle), "--log-key", VKEY, "--whole", "b"]) == 1
    assert "FAILED: the history of b is not whole" in capsys.readouterr().err


def test_a_checkpoints_count_of_two_numbers_is_refused_by_name(tmp_path: Path) -> None:
    bundle = write(tmp_path / "b", withhold(HONEST, {3}))
    bundle.write_bytes(bundle.read_bytes().replace(b"\ncheckpoints 1\n", b"\ncheckpoints 1 1\n"))
    assert refusal(bundle) == "the bundle has no checkpoints count"


def test_a_whole_record_is_named_with_the_withheld_entries_after_its_last_shown(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # x's entry 3 withheld at the end of its history: no later entry of x shows it, so the chain cannot tell
    lines = chained([(["x"], {}), (["y"], {}), (["x"], {"x": 0}), (["x", "y"], {"x": 2, "y": 1}), (["y"], {"y": 3})])
    bundle = write(tmp_path / "b", withhold(lines, {3, 4}))
    assert check(bundle, whole=["x"]).tails == {"x": (2, 2)}
    assert verify.main([str(bundle), "--log-key", VKEY, "--whole", "x"]) == 0
    out = capsys.readouterr().out
    assert "Whole: x, from its first entry to entry 2, its last one shown; 2 entries after it are withheld" in out
    assert check(write(tmp_path / "all", lines), whole=["x"]).tails == {"x": (3, 0)}
    assert verify.main([str(tmp_path / "all"), "--log-key", VKEY, "--whole", "x"]) == 0
    assert "Whole: x, from its first entry to entry 3, its last one shown\n" in capsys.readouterr().out
