"""Atomic writes: a failure leaves the old file as it was and no temporary file behind."""

import os

import pytest

from stationmap._files import atomic_path


def test_failure_keeps_the_old_file(tmp_path):
    target = tmp_path / "register.csv"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as temp:
            temp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["register.csv"]


def test_success_replaces_with_ordinary_permissions(tmp_path):
    target = tmp_path / "out" / "register.csv"
    with atomic_path(target) as temp:
        temp.write_text("new")
    umask = os.umask(0)
    os.umask(umask)
    assert target.read_text() == "new" and (target.stat().st_mode & 0o777) == (0o666 & ~umask)
