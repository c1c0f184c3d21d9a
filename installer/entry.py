"""The bundle's program. One file, two names: `desktop-ocr` (the command line; no argument
starts the window) and `desktop-ocr-gui` (the window only, as the .desktop file and the
Windows/macOS launchers start it). The name it was started by picks which, so a symlink
named desktop-ocr-gui in /usr/bin needs no second executable."""

import sys
from pathlib import Path

from desktop_ocr.cli import gui_main, main

if __name__ == "__main__":
    started_as = Path(sys.argv[0]).stem.lower()
    sys.exit(gui_main() if started_as.endswith("-gui") else main())
