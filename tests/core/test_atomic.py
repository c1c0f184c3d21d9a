"""core/atomic.py: what an atomic save does with targets that are not plain files."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from desktop_ocr.core.atomic import SaveError, atomic_write, atomic_write_text


def test_fifo_target_is_refused_and_left_a_fifo(tmp_path):
    # GIVEN a named pipe where the user points --out
    fifo = tmp_path / "out.txt"
    os.mkfifo(fifo)
    # WHEN saving to it THEN the save is refused with a plain reason
    with pytest.raises(SaveError, match="not a regular file.*named pipe"):
        atomic_write(fifo, b"text")
    # AND the pipe is still a pipe (not replaced by a file) and nothing is left behind
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)
    assert os.listdir(tmp_path) == ["out.txt"]


def _device(path):
    """A character device like /dev/null, made in a temp folder: a test must never point a
    save at the real /dev/null (with the bug, root replaces it by a file)."""
    try:
        os.mknod(path, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except (PermissionError, OSError) as exc:
        pytest.skip(f"cannot make a device node here: {exc}")
    return path


def test_device_target_is_refused(tmp_path):
    # GIVEN a device node (what /dev/null is)
    dev = _device(tmp_path / "null")
    before = os.lstat(dev)
    # WHEN saving to it THEN it is refused, and it is still the same device
    with pytest.raises(SaveError, match="not a regular file.*device"):
        atomic_write(dev, b"text")
    after = os.lstat(dev)
    assert stat.S_ISCHR(after.st_mode) and after.st_rdev == before.st_rdev
    assert os.listdir(tmp_path) == ["null"]


def test_socket_target_is_refused(tmp_path):
    path = tmp_path / "s.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
        with pytest.raises(SaveError, match="not a regular file.*socket"):
            atomic_write(path, b"x")
    assert stat.S_ISSOCK(os.lstat(path).st_mode)


def test_symlink_is_kept_and_its_target_replaced_atomically(tmp_path):
    # GIVEN a link in one folder to a file with mode 0640 in another folder
    real_dir, link_dir = tmp_path / "real", tmp_path / "links"
    real_dir.mkdir()
    link_dir.mkdir()
    target = real_dir / "result.txt"
    target.write_text("old")
    os.chmod(target, 0o640)
    link = link_dir / "result.txt"
    link.symlink_to(target)
    # WHEN saving through the link
    atomic_write_text(link, "new")
    # THEN the link is still a link to the same target, which holds the new content
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == "new" and link.read_text() == "new"
    # AND the target kept its mode, and the temporary file was made beside the target
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert sorted(os.listdir(real_dir)) == ["result.txt"]
    assert sorted(os.listdir(link_dir)) == ["result.txt"]


def test_chain_of_relative_symlinks_is_followed(tmp_path):
    (tmp_path / "a").mkdir()
    target = tmp_path / "a" / "t.csv"
    target.write_text("old")
    (tmp_path / "l1").symlink_to("a/t.csv")
    (tmp_path / "l2").symlink_to("l1")
    atomic_write(tmp_path / "l2", b"new")
    assert (tmp_path / "l2").is_symlink() and (tmp_path / "l1").is_symlink()
    assert target.read_bytes() == b"new"


def test_dangling_symlink_creates_its_target(tmp_path):
    link = tmp_path / "out.md"
    link.symlink_to(tmp_path / "made.md")
    atomic_write(link, b"x")
    assert link.is_symlink() and (tmp_path / "made.md").read_bytes() == b"x"


def test_symlink_to_a_device_is_refused(tmp_path):
    link = tmp_path / "out.txt"
    link.symlink_to(_device(tmp_path / "null"))
    with pytest.raises(SaveError, match="not a regular file"):
        atomic_write(link, b"x")
    assert link.is_symlink()


def test_symlink_loop_is_a_plain_error(tmp_path):
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    with pytest.raises(SaveError, match="Cannot save"):
        atomic_write(tmp_path / "a", b"x")


def test_private_mode_is_forced(tmp_path):
    path = tmp_path / "settings.json"
    path.write_text("{}")
    os.chmod(path, 0o644)
    atomic_write_text(path, "{}", mode=0o600)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
