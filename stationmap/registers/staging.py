"""Uploaded register files waiting between their dry run and their apply (the admin's import page).

A union office uploads a sheet, reads the dry-run report, then applies or cancels. Between the
two requests the file must be kept somewhere, and the apply must do exactly what the report
showed. This module holds both rules, without any web framework:

* **Where files wait.** Each upload gets a directory ``<root>/<token>/`` (``0700``; the file
  ``0600``) under the instance folder, which is never served. The token is 144 random bits
  (:func:`secrets.token_urlsafe`): it names the upload in the page's form and cannot be
  guessed; the upload also records who made it, and only they may apply or cancel it.
  Files are deleted when applied or cancelled, and any older than ``keep_s`` (an hour by
  default) on every new upload (:meth:`Staging.sweep`): nothing is kept longer than needed.
* **The plan shown is the plan applied.** :func:`fingerprint` digests everything the plan
  would write (ids added and their rows, every field change old → new, ids removed) together
  with the version of every station it read (:func:`planned_versions`). The page stores the
  fingerprint of the report it showed; the apply plans again against the register as it is
  now and goes ahead only when the fingerprint is the same, handing the store the same
  versions (``expected=``) so that an edit landing between the check and the write is refused
  inside the store's transaction. Otherwise the page shows the new plan and says why.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._files import atomic_path
from ..errors import InputError

if TYPE_CHECKING:
    import geopandas as gpd

    from .importing import ImportPlan

#: How long an upload waits for its apply (seconds) unless configured otherwise.
KEEP_S = 3600
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,40}$")
_META = "upload.json"
_SUFFIX = re.compile(r"\.[a-z0-9]{1,12}")


@dataclass
class Staged:
    """One uploaded file waiting for its apply.

    ``name`` is the file name as uploaded (shown, never used as a path); ``path`` where its
    bytes are kept; ``fingerprint`` the digest of the plan last shown for it ('' before any).
    """

    token: str
    name: str
    who: str
    created: float
    mode: str = "upsert"
    adcode: str | None = None
    coordsys: str | None = None
    sheet: str | None = None
    fingerprint: str = ""
    path: str = ""


class Staging:
    """The folder of uploads waiting for their apply (see the module's notes)."""

    def __init__(self, root: str | os.PathLike, *, keep_s: float = KEEP_S):
        self.root = Path(root)
        self.keep_s = keep_s

    def put(self, data: bytes, name: str, *, who: str, mode: str = "upsert", adcode: str | None = None,
            coordsys: str | None = None, sheet: str | None = None) -> Staged:
        """Keep ``data`` (an uploaded file called ``name``) for ``who``; returns its record."""
        self.sweep()
        self.root.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(18)
        folder = self.root / token
        folder.mkdir(mode=0o700)
        suffix = Path(name).suffix.lower()
        path = folder / ("upload" + (suffix if _SUFFIX.fullmatch(suffix) else ""))
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        staged = Staged(token, Path(name).name or "upload", who, time.time(), mode, adcode, coordsys, sheet,
                        path=str(path))
        self.save(staged)
        return staged

    def save(self, staged: Staged) -> None:
        """Record ``staged`` (after its plan was shown: the fingerprint) atomically."""
        with atomic_path(self.root / staged.token / _META) as temp:
            temp.write_text(json.dumps(asdict(staged), ensure_ascii=False), encoding="utf-8")

    def get(self, token: str, *, who: str) -> Staged:
        """The upload ``token`` of ``who``; :class:`InputError` when it is unknown, expired or not theirs.

        Another person's token reads as unknown: a page never tells who else is importing what.
        """
        gone = InputError("this upload is no longer kept (applied, cancelled or older than an hour): "
                          "upload the file again (文件已失效，请重新上传)", field="upload")
        if not _TOKEN.match(token or ""):
            raise gone
        try:
            meta = json.loads((self.root / token / _META).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise gone from None
        staged = Staged(**meta)
        if staged.who != who or time.time() - staged.created > self.keep_s or not Path(staged.path).is_file():
            raise gone
        return staged

    def discard(self, token: str) -> None:
        """Delete an upload's file and record (applied or cancelled)."""
        if _TOKEN.match(token or ""):
            shutil.rmtree(self.root / token, ignore_errors=True)

    def sweep(self, now: float | None = None) -> int:
        """Delete uploads older than ``keep_s``; returns how many."""
        if not self.root.is_dir():
            return 0
        now = time.time() if now is None else now
        removed = 0
        for folder in self.root.iterdir():
            try:
                age = now - folder.stat().st_mtime
            except OSError:
                continue
            if folder.is_dir() and age > self.keep_s:
                shutil.rmtree(folder, ignore_errors=True)
                removed += 1
        return removed


def planned_versions(plan: ImportPlan, current: gpd.GeoDataFrame) -> dict[str, int]:
    """The version of every station ``plan`` read: those it adds (0), changes, leaves and removes.

    Handed to the store as ``expected=``: a station edited after the plan was made, even one the
    plan leaves alone, makes the apply refuse instead of writing a plan nobody saw.
    """
    from .applying import plan_frame

    _, expected = plan_frame(plan, current)
    versions = {str(s): int(v) for s, v in zip(current["id"], current["version"], strict=True)} if len(current) else {}
    for station_id in plan.leave:
        expected.setdefault(station_id, versions.get(station_id, 0))
    return expected


def _plain(value: Any) -> Any:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if hasattr(value, "wkt"):
        return "" if value.is_empty else value.wkt
    if isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def fingerprint(plan: ImportPlan, versions: dict[str, int]) -> str:
    """A digest of everything ``plan`` would write and of the station versions it was made from."""
    added = [{k: _plain(v) for k, v in sorted(plan.row_of(s).items())} for s in plan.add]
    changed = {s: [[c.field, c.old, c.new] for c in changes] for s, changes in sorted(plan.change.items())}
    body = {"digest": plan.digest, "mode": plan.mode, "adcode": plan.adcode, "fields": list(plan.fields),
            "add": added, "change": changed, "remove": sorted(plan.remove), "versions": sorted(versions.items())}
    return hashlib.sha256(json.dumps(body, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def touched_adcodes(plan: ImportPlan, current: gpd.GeoDataFrame) -> dict[str, set[str]]:
    """Every district the plan touches, with the ids touching it: a station's old and new district.

    Lets the page explain beforehand which rows an editor's rights do not cover (the store
    refuses the whole import when any does).
    """
    now = {str(r["id"]): str(r.get("adcode") or "") for r in current[["id", "adcode"]].to_dict("records")} \
        if len(current) else {}
    out: dict[str, set[str]] = {}

    def note(code: str, station_id: str) -> None:
        out.setdefault(code or "", set()).add(station_id)

    for station_id in plan.add:
        note(str(plan.row_of(station_id).get("adcode") or ""), station_id)
    for station_id, changes in plan.change.items():
        note(now.get(station_id, ""), station_id)
        for change in changes:
            if change.field == "adcode":
                note(change.new, station_id)
    for station_id in plan.remove:
        note(now.get(station_id, ""), station_id)
    return out
