"""The Debian packages a bundle needs from the system: the Depends line of its .deb.

    python installer/linux/deb_depends.py BUNDLE_DIR

PyInstaller copies most libraries into the bundle but leaves the system's own (glibc, libGL/
libEGL, fontconfig, libxcb-*, D-Bus ...) to the machine. Every ELF file of the bundle is
asked with ldd which libraries it loads, as the bundle's loader path sets them up at run
time; those found outside the bundle are mapped to their packages with dpkg -S. A Qt plugin
that needs a library this machine does not have (the GTK theme without GTK) is optional: Qt
skips it where its libraries are missing, so it adds no dependency (it is named on stderr).
This is the part of dpkg-shlibdeps a bundle needs, without a debian/ source tree.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def elf_files(bundle: Path) -> list[Path]:
    found = []
    for path in sorted(bundle.rglob("*")):
        if path.is_file() and not path.is_symlink():
            with path.open("rb") as fh:
                if fh.read(4) == b"\x7fELF":
                    found.append(path)
    return found


def ldd(files: list[Path], loader_path: str) -> dict[Path, list[tuple[str, str | None]]]:
    """file -> [(soname, resolved path or None)] as the bundle's program would load them."""
    env = dict(os.environ, LD_LIBRARY_PATH=loader_path, LC_ALL="C")
    result: dict[Path, list[tuple[str, str | None]]] = {}
    for start in range(0, len(files), 64):
        chunk = files[start:start + 64]
        out = subprocess.run(["ldd", *map(str, chunk)], env=env, capture_output=True, text=True).stdout
        current: Path | None = None
        for line in out.splitlines():
            if not line.startswith(("\t", " ")) and line.endswith(":"):
                current = Path(line[:-1])
                result[current] = []
            elif current is not None and "=>" in line:
                name, _, rest = line.strip().partition(" => ")
                target = rest.split(" (", 1)[0].strip()
                result[current].append((name, None if target == "not found" else target))
    return result


def owners(paths: set[str]) -> set[str]:
    """Packages owning `paths`; on a merged-/usr system a library may be registered under
    /lib or /usr/lib, whichever path the loader used."""
    queries: dict[str, str] = {}
    for p in paths:
        real = os.path.realpath(p)
        for variant in {p, real, real.removeprefix("/usr"), "/usr" + real if not real.startswith("/usr/") else real}:
            queries[variant] = p
    out = subprocess.run(["dpkg-query", "-S", *sorted(queries)], capture_output=True, text=True).stdout
    packages, owned = set(), set()
    for line in out.splitlines():
        pkgs, _, path = line.partition(": ")
        if path in queries:
            owned.add(queries[path])
            packages.update(p.strip().split(":")[0] for p in pkgs.split(","))
    missing = paths - owned
    if missing:
        print(f"deb_depends: no package owns {sorted(missing)}", file=sys.stderr)
    return packages


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 64
    bundle = Path(argv[0]).resolve()
    internal = bundle / "_internal"
    loader_path = os.pathsep.join(str(p) for p in (internal, bundle) if p.is_dir())
    system: set[str] = set()
    for path, libs in ldd(elf_files(bundle), loader_path).items():
        missing = [name for name, target in libs if target is None]
        if missing:
            print(f"deb_depends: optional, not counted: {path.relative_to(bundle)} "
                  f"(needs {', '.join(missing)})", file=sys.stderr)
            continue
        system.update(t for _, t in libs if t and not Path(t).resolve().is_relative_to(bundle))
    print(", ".join(sorted(owners(system))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
