"""PyInstaller runtime hook: children of the app get the user's library path, not the bundle's.

On Linux the bootloader prepends the bundle's folder to LD_LIBRARY_PATH (keeping a value the
user had in LD_LIBRARY_PATH_ORIG). This process's dynamic loader read the variable when it
started, so putting it back changes nothing for the bundle; but an `lmdeploy` server, the
Python that has lmdeploy, nvidia-smi, xclip or wl-copy started from the app would otherwise
load the bundle's libraries (its libstdc++, libssl, Qt) before their own and fail in odd ways.
"""

import os
import sys

_bundle = getattr(sys, "_MEIPASS", None)
_orig = os.environ.pop("LD_LIBRARY_PATH_ORIG", None)
if _orig is not None:
    os.environ["LD_LIBRARY_PATH"] = _orig
elif _bundle and "LD_LIBRARY_PATH" in os.environ:
    _rest = [p for p in os.environ["LD_LIBRARY_PATH"].split(os.pathsep)
             if p and os.path.realpath(p) != os.path.realpath(_bundle)]
    if _rest:
        os.environ["LD_LIBRARY_PATH"] = os.pathsep.join(_rest)
    else:
        del os.environ["LD_LIBRARY_PATH"]
