"""Item 18: the signing secret is ≥ 32 random bytes written as hex or base64, or a key file the server made."""

from __future__ import annotations

import base64
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scythe_desktop.orchestrator.secret import decode_secret, load_secret, read_key_file
from scythe_desktop.orchestrator.server import Orchestrator, ServerConfig

RAW = secrets.token_bytes(32)


@pytest.mark.parametrize(
    "text",
    [RAW.hex(), RAW.hex().upper(), base64.b64encode(RAW).decode(), base64.urlsafe_b64encode(RAW).decode().rstrip("="),
     secrets.token_urlsafe(48), f"  {RAW.hex()}\n"],
)
def test_random_bytes_as_hex_or_base64_are_accepted(text: str) -> None:
    assert len(decode_secret(text)) >= 32
    assert load_secret(text) == text.strip().encode()  # the text is the HMAC key, as before


@pytest.mark.parametrize(
    ("text", "why"),
    [("correct horse battery staple 123", "neither hex nor base64"),  # 32 characters, not 32 bytes
     ("s" * 40, "fewer than 32"),
     ("r" * 48, "does not look random"),  # valid base64 of 36 bytes, three distinct values
     ("ab" * 32, "does not look random"),
     (RAW.hex()[:62], "fewer than 32"),
     ("z!" * 40, "neither hex nor base64")],
)
def test_passphrases_short_and_patterned_secrets_are_refused(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as info:
        decode_secret(text)
    assert text not in str(info.value)
    assert "token_hex(32)" in str(info.value)  # says how to make a good one


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_decodes_to_32_bytes_or_is_refused_without_echoing_it(text: str) -> None:
    try:
        raw = decode_secret(text)
    except ValueError as exc:
        assert len(text.strip()) < 8 or text.strip() not in str(exc)
    else:
        assert len(raw) >= 32 and len(set(raw)) >= 16


def test_a_missing_key_file_is_created_by_the_server_and_read_back(tmp_path: Path) -> None:
    path = tmp_path / "auth.key"
    first = read_key_file(path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(decode_secret(first.decode())) == 32
    assert read_key_file(path) == first


def test_a_key_file_others_may_read_or_with_a_passphrase_is_refused(tmp_path: Path) -> None:
    loose = tmp_path / "loose.key"
    loose.write_text(RAW.hex())
    loose.chmod(0o644)
    with pytest.raises(ValueError, match="chmod 600"):
        read_key_file(loose)
    weak = tmp_path / "weak.key"
    weak.write_text("k" * 48)
    weak.chmod(0o600)
    with pytest.raises(ValueError, match="does not look random"):
        read_key_file(weak)


def test_the_server_refuses_a_weak_secret_before_serving() -> None:
    with pytest.raises(ValueError, match="hex or base64"):
        Orchestrator(ServerConfig(scenario="tutorial", auth_secret="a-passphrase-of-thirty-two-chars"))


def test_scythe_serve_says_how_to_make_a_secret(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "scythe_desktop", "serve", "--scenario", "tutorial", "--port", "0",
         "--token-dir", str(tmp_path / "tokens"), "--auth-secret", "password" * 4],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 2, proc.stderr
    assert "random bytes as hex or base64" in proc.stderr and "password" not in proc.stderr
