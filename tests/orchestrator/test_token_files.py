"""Item 13 against a real ``scythe serve``: token files replaced atomically (a planted symlink receives nothing,
an old 0644 file does not stay 0644), directories 0700, the key and the state database 0600."""

from __future__ import annotations

import signal
import stat
import subprocess
import sys
from pathlib import Path


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_serve_writes_private_token_and_state_files(tmp_path: Path) -> None:
    tokens, state = tmp_path / "tokens", tmp_path / "state"
    tokens.mkdir(mode=0o755)
    tokens.chmod(0o755)
    victim = tmp_path / "victim"
    victim.write_text("nothing secret here\n")
    (tokens / "operator.token").symlink_to(victim)
    (tokens / "viewer.token").write_text("stale\n")
    (tokens / "viewer.token").chmod(0o644)
    proc = subprocess.Popen(
        [sys.executable, "-m", "scythe_desktop", "serve", "--scenario", "tutorial", "--port", "0",
         "--state", str(state), "--token-dir", str(tokens), "--policy", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # the serving line: tokens are written before it
        assert line.startswith("serving tutorial"), proc.stderr.read() if proc.stderr else line
        assert victim.read_text() == "nothing secret here\n"
        for role in ("viewer", "operator", "admin"):
            path = tokens / f"{role}.token"
            assert not path.is_symlink() and _mode(path) == 0o600, (role, oct(_mode(path)))
            assert path.read_text().count(".") == 2  # a JWT, not the stale text
        assert _mode(tokens) == 0o700 and _mode(state) == 0o700
        assert _mode(state / "auth.key") == 0o600
        assert _mode(state / "orchestrator.sqlite") == 0o600
        assert not [p.name for p in tokens.iterdir() if p.name.startswith(".")]  # no temp files left
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
