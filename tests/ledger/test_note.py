"""Signed notes, checkpoints and cosignatures, against the Go reference example."""

from __future__ import annotations

import base64

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caliber.ledger import note
from caliber.ledger.note import COSIGNATURE_V1, Checkpoint, NoteError

# The example key and note of golang.org/x/mod/sumdb/note (Ed25519 signatures are deterministic).
GO_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n"
GO_NOTE = GO_TEXT + "\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"


def test_go_reference_key_and_signature_byte_for_byte() -> None:
    assert note.verifier_key(GO_SKEY) == GO_VKEY
    assert note.sign(GO_TEXT, GO_SKEY) == GO_NOTE
    assert note.verify(GO_NOTE, [GO_VKEY]) == GO_TEXT


def test_a_changed_text_or_signature_fails() -> None:
    with pytest.raises(NoteError, match="does not verify"):
        note.verify(GO_NOTE.replace("cryptography", "cryptographY"), [GO_VKEY])
    with pytest.raises(NoteError):
        note.verify(GO_NOTE.replace("x08go", "x08gp"), [GO_VKEY])


def test_a_note_from_an_unknown_key_is_unverified() -> None:
    _skey, other = note.generate_key("someone")
    with pytest.raises(NoteError, match="no signature"):
        note.verify(GO_NOTE, [other])


@pytest.mark.parametrize(
    "vkey",
    [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # wrong id
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10T",  # short key
        "Peter Neumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",  # space in name
        "PeterNeumann+c74f20a3",
    ],
)
def test_malformed_verifier_keys_are_refused(vkey: str) -> None:
    with pytest.raises(NoteError):
        note.verify(GO_NOTE, [vkey])


@settings(max_examples=30, deadline=None)
@given(name=st.text(st.characters(min_codepoint=0x21, max_codepoint=0x7E, exclude_characters="+"), min_size=1, max_size=20))
def test_generated_keys_sign_and_verify(name: str) -> None:
    skey, vkey = note.generate_key(name)
    assert skey.startswith(f"PRIVATE+KEY+{name}+")
    assert note.verify(note.sign("hello\n", skey), [vkey]) == "hello\n"


def test_checkpoints_round_trip() -> None:
    checkpoint = Checkpoint("caliber.example/log", 42, bytes(range(32)), ("extension line",))
    text = note.format_checkpoint(checkpoint)
    assert text.splitlines()[:2] == ["caliber.example/log", "42"]
    assert note.parse_checkpoint(text) == checkpoint


@pytest.mark.parametrize(
    "text",
    [
        "origin\n042\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",  # leading zero
        "origin\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
        "origin\n1\nAAAA\n",  # short root
        "origin\n1\n",
        "\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
    ],
)
def test_malformed_checkpoints_are_refused(text: str) -> None:
    with pytest.raises(NoteError):
        note.parse_checkpoint(text)


def test_cosignatures_verify_and_carry_their_time() -> None:
    log_skey, log_vkey = note.generate_key("caliber.example/log")
    witness_skey, witness_vkey = note.generate_key("inspector.example", COSIGNATURE_V1)
    assert base64.b64decode(witness_vkey.split("+", 2)[2])[0] == COSIGNATURE_V1
    signed = note.sign(note.format_checkpoint(Checkpoint("caliber.example/log", 7, bytes(32))), log_skey)
    cosigned = note.cosign(signed, witness_skey, 1_764_300_000)
    assert note.verify(cosigned, [log_vkey]) == note.split_note(signed)[0]
    assert note.verify_cosignature(cosigned, witness_vkey) == 1_764_300_000
    tampered = cosigned.replace("\n7\n", "\n8\n")
    with pytest.raises(NoteError):
        note.verify_cosignature(tampered, witness_vkey)
    with pytest.raises(NoteError, match="no cosignature"):
        note.verify_cosignature(signed, witness_vkey)


def test_witness_and_log_keys_are_not_interchangeable() -> None:
    log_skey, _ = note.generate_key("log")
    witness_skey, _ = note.generate_key("witness", COSIGNATURE_V1)
    with pytest.raises(NoteError, match="witness key"):
        note.sign("x\n", witness_skey)
    signed = note.sign(note.format_checkpoint(Checkpoint("log", 1, bytes(32))), log_skey)
    with pytest.raises(NoteError, match="not a witness"):
        note.cosign(signed, log_skey, 1)
