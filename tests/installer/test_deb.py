"""The .deb, installed with the real dpkg into a private root and run from there.

`dpkg --root=DIR --force-script-chrootless` unpacks into DIR and runs the package's own
maintainer scripts with DPKG_ROOT=DIR (the convention they follow), so the real system is
never touched and no chroot (or a whole system inside DIR) is needed. The status database
of the private root holds this machine's entries for exactly the packages the .deb depends
on, so dpkg checks the Depends line for real instead of being forced past it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from bundle_helpers import run_ocr, scores
from PIL import Image

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

MIME_TYPES = ("image/png", "image/jpeg", "image/tiff", "image/bmp", "image/webp", "image/gif",
              "application/pdf")


def dpkg_in(root: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["dpkg", f"--root={root}", f"--log={root}/var/log/dpkg.log",
                           "--force-script-chrootless", "--force-not-root", *args],
                          capture_output=True, text=True, timeout=600)


def control_field(deb: Path, field: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), field], capture_output=True, text=True,
                          check=True).stdout.strip()


def new_root(root: Path, deb: Path) -> Path:
    """An empty dpkg root whose database has this machine's entries for the .deb's dependencies."""
    admin = root / "var" / "lib" / "dpkg"
    for sub in ("info", "updates", "triggers"):
        (admin / sub).mkdir(parents=True)
    (root / "var" / "log").mkdir(parents=True)
    (admin / "available").touch()
    needed = [d.split()[0].split(":")[0] for d in control_field(deb, "Depends").split(",")]
    status = subprocess.run(["dpkg-query", "-s", *needed], capture_output=True, text=True, check=True).stdout
    (admin / "status").write_text(status)
    for name in needed:
        arch = subprocess.run(["dpkg-query", "-W", "-f=${Architecture}", name], capture_output=True,
                              text=True, check=True).stdout
        (admin / "info" / f"{name}:{arch}.list").touch()  # those packages' files are not here
        (admin / "info" / f"{name}.list").touch()
    return root


@pytest.fixture(scope="module")
def installed(built, tmp_path_factory) -> Path:
    root = new_root(tmp_path_factory.mktemp("root"), built.deb)
    done = dpkg_in(root, "-i", str(built.deb))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "dependency problems" not in done.stderr, done.stderr
    return root


def test_package_metadata(built):
    # GIVEN the .deb; THEN its control file names the package, the system libraries the
    # bundle loads from the system (worked out from the bundle, not a fixed list), no Python
    assert control_field(built.deb, "Package") == "desktop-ocr"
    depends = {d.strip() for d in control_field(built.deb, "Depends").split(",")}
    assert {"libc6", "libegl1", "libxcb1"} <= depends, depends
    assert not {d for d in depends if d.startswith("python")}
    assert int(control_field(built.deb, "Installed-Size")) > 100_000  # KiB: the bundle is in


def test_files_land_where_desktops_look(installed):
    # GIVEN the package installed into a private root
    usr = installed / "usr"
    # THEN the program is in /opt, its launchers in /usr/bin as links that resolve inside any root
    assert os.access(installed / "opt/desktop-ocr/desktop-ocr", os.X_OK)
    for name in ("desktop-ocr", "desktop-ocr-gui"):
        link = usr / "bin" / name
        assert link.is_symlink() and not os.path.isabs(os.readlink(link))
        assert link.resolve() == (installed / "opt/desktop-ocr/desktop-ocr").resolve()
    # ... the menu entry, the icons (SVG and rendered PNGs) and the AppStream metadata
    assert (usr / "share/applications/desktop-ocr.desktop").is_file()
    assert (usr / "share/icons/hicolor/scalable/apps/desktop-ocr.svg").is_file()
    for size in (16, 32, 48, 128, 256, 512):
        png = usr / f"share/icons/hicolor/{size}x{size}/apps/desktop-ocr.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", png
        assert Image.open(png).size == (size, size)
    assert (usr / "share/metainfo/io.github.desktop_ocr.metainfo.xml").is_file()


@pytest.mark.skipif(shutil.which("desktop-file-validate") is None, reason="needs desktop-file-utils")
def test_desktop_file_is_valid_and_open_with_offers_the_app(installed):
    # GIVEN the installed .desktop file; THEN it validates ...
    desktop = installed / "usr/share/applications/desktop-ocr.desktop"
    done = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr
    # ... and the postinst (run with DPKG_ROOT) rebuilt the MIME cache "Open with" reads:
    # every image type and PDF lists the app
    cache = (installed / "usr/share/applications/mimeinfo.cache").read_text()
    listed = {line.split("=", 1)[0] for line in cache.splitlines() if "desktop-ocr.desktop" in line}
    assert set(MIME_TYPES) <= listed, cache


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="needs appstream")
def test_appstream_metadata_validates(installed):
    # GIVEN the installed root; THEN appstreamcli accepts the metainfo, with the desktop
    # file and icon it points at (validate-tree checks they are where it says)
    done = subprocess.run(["appstreamcli", "validate-tree", "--no-net", str(installed)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_launcher_recognises(installed, corpus):
    # WHEN the launcher in /usr/bin of the installed tree runs `ocr` (a link into /opt)
    done = run_ocr(installed / "usr/bin/desktop-ocr", str(corpus / "receipt-sroie-590.jpg"), "--engine", "cpu")
    # THEN it prints the receipt's text
    assert done.returncode == 0, done.stderr
    assert scores(done.stdout, "receipt-sroie-590.jpg")["cer_ci"] < 0.10


def test_installed_window_starts_and_quits_cleanly(installed, tmp_path):
    from xvfb import missing_tools, x_env, xvfb

    missing = missing_tools() + ([] if shutil.which("xdotool") else ["xdotool"])
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (bash installer/setup.sh test)")
    log = Path(os.environ["XDG_STATE_HOME"]) / "desktop-ocr" / "log" / "desktop-ocr.log"
    with xvfb() as display:
        env = x_env(display)
        # WHEN the menu entry's command starts on a real X display (the xcb plugin and its
        # libraries must be in the bundle or on the system)
        app = subprocess.Popen([str(installed / "usr/bin/desktop-ocr-gui"), "--engine", "cpu"], env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            # THEN its window appears (xdotool waits for it) ...
            found = subprocess.run(["xdotool", "search", "--sync", "--all", "--onlyvisible",
                                    "--pid", str(app.pid), "--name", "Desktop OCR"],
                                   env=env, capture_output=True, text=True, timeout=120)
            window = found.stdout.split()[0]
            # ... and Ctrl+Q ends it with status 0, through the app's own clean exit
            subprocess.run(["xdotool", "windowfocus", "--sync", window, "key", "ctrl+q"], env=env,
                           check=True, timeout=30)
            rc = app.wait(60)
        finally:
            if app.poll() is None:
                app.kill()
                app.wait()
        stderr = app.stderr.read()
    assert rc == 0, stderr
    assert "exited cleanly" in log.read_text()
    # No Qt complaint (a missing plugin, font or library shows up here first).
    assert not [line for line in stderr.splitlines() if line.strip()], stderr


def test_remove_and_purge_leave_nothing(built, tmp_path):
    # GIVEN the package installed in a fresh root
    root = new_root(tmp_path / "root", built.deb)
    assert dpkg_in(root, "-i", str(built.deb)).returncode == 0
    # WHEN it is purged
    done = dpkg_in(root, "--purge", "desktop-ocr")
    # THEN its files are gone and the postrm took the app out of "Open with"
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (root / "opt/desktop-ocr").exists()
    assert not (root / "usr/bin/desktop-ocr").is_symlink()
    cache = root / "usr/share/applications/mimeinfo.cache"
    assert not cache.exists() or "desktop-ocr" not in cache.read_text()
    status = subprocess.run(["dpkg-query", f"--admindir={root}/var/lib/dpkg", "-W", "-f=${db:Status-Abbrev}",
                             "desktop-ocr"], capture_output=True, text=True)
    assert status.stdout.strip() in ("", "un"), status.stdout
