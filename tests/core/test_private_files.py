"""Item 13: token, key and state files are written through a temp file and a rename, never through a planted
symlink, with mode 0600 in 0700 directories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scythe_desktop.core.private_files import (
    PrivateFileError,
    create_private,
    private_dir,
    private_file,
    write_private,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_a_planted_symlink_is_replaced_not_followed(tmp_path: Path) -> None:
    victim = tmp_path / "victim.txt"
    victim.write_text("untouched")
    link = tmp_path / "operator.token"
    link.symlink_to(victim)
    write_private(link, b"secret\n")
    assert victim.read_text() == "untouched"
    assert not link.is_symlink() and link.read_bytes() == b"secret\n"
    assert _mode(link) == 0o600


def test_an_existing_world_readable_file_becomes_0600(tmp_path: Path) -> None:
    path = tmp_path / "viewer.token"
    path.write_text("old")
    path.chmod(0o644)
    write_private(path, b"new")
    assert path.read_bytes() == b"new" and _mode(path) == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["viewer.token"]  # no temp file left behind


def test_directories_are_made_and_tightened_to_0700(tmp_path: Path) -> None:
    nested = private_dir(tmp_path / "a" / "state")
    assert _mode(nested) == 0o700
    loose = tmp_path / "loose"
    loose.mkdir(mode=0o755)
    loose.chmod(0o755)
    assert _mode(private_dir(loose)) == 0o700
    (tmp_path / "file").write_text("x")
    with pytest.raises(PrivateFileError, match="not a directory"):
        private_dir(tmp_path / "file")


def test_create_private_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "auth.key"
    assert create_private(path, b"first")
    assert not create_private(path, b"second")
    assert path.read_bytes() == b"first" and _mode(path) == 0o600


def test_a_database_path_is_created_0600_and_a_symlink_refused(tmp_path: Path) -> None:
    db = tmp_path / "orchestrator.sqlite"
    private_file(db)
    assert _mode(db) == 0o600
    db.chmod(0o644)
    private_file(db)
    assert _mode(db) == 0o600
    link = tmp_path / "audit.sqlite"
    link.symlink_to(tmp_path / "elsewhere.sqlite")
    with pytest.raises(PrivateFileError, match="symlink"):
        private_file(link)
    assert not (tmp_path / "elsewhere.sqlite").exists()


def test_the_state_store_database_is_private(tmp_path: Path) -> None:
    from scythe_desktop.orchestrator.store import StateStore

    store = StateStore(private_dir(tmp_path / "state") / "orchestrator.sqlite")
    store.put_meta(tick=1)
    store.close()
    for p in (tmp_path / "state").iterdir():
        assert _mode(p) == 0o600, (p, oct(_mode(p)))
    assert os.stat(tmp_path / "state").st_mode & 0o077 == 0
