"""Writing files so that a failure never leaves a half-written one where the old one was."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one step.

    The temporary file is created and then removed, so writers that refuse existing files
    (GDAL) can create it themselves; it keeps ``path``'s suffix, for writers that go by it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(handle)
    temp = Path(name)
    temp.unlink()
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o666 & ~umask)      # what a plainly created file would get (mkstemp: 0600)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


@contextmanager
def atomic_dir(path: str | os.PathLike, replaceable: Iterable[str] = ()) -> Iterator[Path]:
    """Yield a temporary directory beside ``path``; on success it becomes ``path`` whole.

    A failure (or Ctrl-C, or a kill) before the end leaves ``path`` as it was: a reader sees
    all the new files or none of them. An existing ``path`` is replaced only when it holds
    nothing but files named in ``replaceable`` (the ones the command writes): the old
    directory is renamed aside, the new one renamed in, then the old one deleted, so at worst
    ``path`` is briefly absent, never half-written. Anything else there is refused rather than
    deleted.

    Raises
    ------
    InputError
        ``path`` is a file, or a directory holding other files.
    """
    from .errors import InputError

    path = Path(path)
    if path.exists() and not path.is_dir():
        raise InputError(f"{str(path)!r} is a file; --out names a directory", field="out")
    if path.is_dir():
        others = sorted(p.name for p in path.iterdir() if p.name not in set(replaceable))
        if others:
            raise InputError(f"{str(path)!r} holds other files ({', '.join(others[:5])}); name a new directory "
                             "or one this command wrote", field="out")
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}."))
    try:
        yield temp
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp, 0o777 & ~umask)      # what a plainly created directory would get (mkdtemp: 0700)
        old = None
        if path.exists():
            old = Path(tempfile.mkdtemp(dir=path.parent, prefix=f".{path.name}.old."))
            os.replace(path, old / "x")
        os.replace(temp, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(temp, ignore_errors=True)
