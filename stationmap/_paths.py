"""Where the shipped ``data/``, ``static/`` and ``templates/`` folders are.

In a wheel they are installed inside the package; in a source checkout they sit at the top of
the repository. Looking in both keeps one layout for developers and one for users.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped(folder: str) -> Path:
    """The path of a shipped folder (``data``, ``static`` or ``templates``)."""
    for candidate in (_PACKAGE / folder, _PACKAGE.parent / folder):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"stationmap's {folder}/ folder is missing from this installation")


def data_file(name: str) -> Path:
    """A file in the shipped ``data/`` folder."""
    return shipped("data") / name
