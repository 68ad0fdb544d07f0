"""The token signing secret: at least 32 random bytes, written as hex or base64, or a key file the server made.

A passphrase of 32 characters is not 32 random bytes, so ``--auth-secret`` and key files must hold hex
(64+ digits) or base64 (standard or URL-safe, padding optional) that decodes to ≥ 32 bytes, and those bytes
must look random (at least :data:`MIN_DISTINCT_BYTES` different values: 32 random bytes have ~30, a repeated
pattern far fewer). A key file that does not exist yet is created by the server (0600, 32 bytes from
``secrets``); an existing one must not be readable by group or others. The secret's *text* is the HMAC key,
so key files written by earlier versions (hex) keep signing the same tokens. Knows files and encodings only.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import stat
from pathlib import Path
from typing import Final

from scythe_desktop.core.private_files import create_private

MIN_SECRET_BYTES: Final = 32
MIN_DISTINCT_BYTES: Final = 16
HOW_TO: Final = (
    "give ≥ 32 random bytes as hex or base64, e.g. $(python3 -c 'import secrets; print(secrets.token_hex(32))'), "
    "or --auth-key-file PATH naming a file that does not exist yet (the server creates it)"
)


def decode_secret(text: str) -> bytes:
    """The bytes a hex or base64 secret stands for; ValueError saying what is wrong (never the secret)."""
    text = text.strip()
    try:
        if len(text) % 2 == 0 and all(c in "0123456789abcdefABCDEF" for c in text):
            raw = bytes.fromhex(text)
        else:
            padded = text + "=" * (-len(text) % 4)
            raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (ValueError, binascii.Error):
        raise ValueError(f"the auth secret is neither hex nor base64; {HOW_TO}") from None
    if len(raw) < MIN_SECRET_BYTES:
        raise ValueError(f"the auth secret holds {len(raw)} bytes, fewer than {MIN_SECRET_BYTES}; {HOW_TO}")
    if len(set(raw)) < MIN_DISTINCT_BYTES:
        raise ValueError(f"the auth secret does not look random (only {len(set(raw))} different byte values); "
                         f"{HOW_TO}")
    return raw


def new_secret_text() -> str:
    return secrets.token_hex(MIN_SECRET_BYTES)


def read_key_file(path: Path) -> bytes:
    """The secret in ``path`` (created by the server if missing); refused if others may read it."""
    if create_private(path, (new_secret_text() + "\n").encode()):
        return path.read_bytes().strip()
    st = path.stat()
    if stat.S_IMODE(st.st_mode) & 0o077:
        raise ValueError(f"auth key file {path} may be read by other users (mode {stat.S_IMODE(st.st_mode):o}); "
                         f"run chmod 600 {path}")
    text = path.read_bytes().strip()
    try:
        decode_secret(text.decode("ascii"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"auth key file {path}: {exc}") from None
    return text


def load_secret(secret: str | None = None, key_file: str | Path | None = None) -> bytes:
    """The HMAC key from ``secret`` or ``key_file`` (validated as above); a fresh random one if neither."""
    if secret and key_file:
        raise ValueError("give either an auth secret or an auth key file, not both")
    if key_file:
        return read_key_file(Path(key_file))
    if secret:
        decode_secret(secret)
        return secret.strip().encode()
    return new_secret_text().encode()


__all__ = ["MIN_SECRET_BYTES", "decode_secret", "load_secret", "new_secret_text", "read_key_file"]
