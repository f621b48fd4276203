"""A built wheel carries data/, static/ and templates/ and works outside the checkout."""

import json
import os
import subprocess
import sys
import sysconfig
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(out), str(ROOT)], check=True, timeout=300)
    (path,) = out.glob("stationmap-*.whl")
    return path


def test_wheel_carries_the_shipped_folders(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for shipped in ("data", "static", "templates"):
        files = {p for p in (ROOT / shipped).rglob("*") if p.is_file()}
        assert files, f"{shipped}/ is empty"
        for f in files:
            assert f"stationmap/{shipped}/{f.relative_to(ROOT / shipped).as_posix()}" in names


def test_wheel_marks_the_package_as_typed(wheel):
    # PEP 561: without py.typed, a project importing stationmap gets no types from mypy.
    assert "stationmap/py.typed" in zipfile.ZipFile(wheel).namelist()


def test_installed_wheel_runs_on_the_shipped_data(wheel, tmp_path):
    env_dir = tmp_path / "fresh"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # The fresh environment borrows the test environment's dependencies (no network needed),
    # but not its editable stationmap: a .pth line adds a path without running its .pth hooks.
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
                   check=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    where = subprocess.run([python, "-c", "import stationmap; print(stationmap.__file__)"], cwd=tmp_path,
                           capture_output=True, text=True, check=True, env=env).stdout
    assert where.startswith(str(env_dir)), where
    result = subprocess.run([env_dir / "bin" / "stationmap", "nearest", "--lat", "31.2397", "--lon", "121.4998",
                             "--json"], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["results"]) == 5
