"""The bundle built once for the installer tests: `bash installer/build.sh deb`, for real,
into a temporary folder (about 1-2 minutes here; the .deb uncompressed, which only changes
how long dpkg-deb takes)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The engine tests' fake lmdeploy and the GUI tests' Xvfb helper: one copy, not two.
sys.path.append(str(ROOT / "tests" / "engines"))
sys.path.append(str(ROOT / "tests" / "gui"))


@dataclass(frozen=True)
class Built:
    app: Path  # the one-folder bundle
    deb: Path
    log: str

    @property
    def exe(self) -> Path:
        return self.app / "desktop-ocr"


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    if sys.platform != "linux":
        pytest.skip("the bundle test builds the Linux bundle and .deb")
    out = tmp_path_factory.mktemp("bundle")
    env = dict(os.environ, PYTHON=sys.executable, DIST_DIR=str(out / "dist"),
               WORK_DIR=str(out / "work"), DEB_COMPRESS="none")
    done = subprocess.run(["bash", "installer/build.sh", "deb"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=1500)
    log = done.stdout + done.stderr
    assert done.returncode == 0, log[-4000:]
    debs = sorted((out / "dist").glob("desktop-ocr_*.deb"))
    assert len(debs) == 1, log[-2000:]
    return Built(out / "dist" / "desktop-ocr", debs[0], log)
