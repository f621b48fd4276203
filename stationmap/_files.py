"""Writing files so that a failure never leaves a half-written one where the old one was."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
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
