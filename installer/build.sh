#!/usr/bin/env bash
# Build Desktop OCR's one-folder bundle with PyInstaller, and on Debian/Ubuntu its .deb.
#   bash installer/build.sh        dist/desktop-ocr/  (run dist/desktop-ocr/desktop-ocr)
#   bash installer/build.sh deb    the same + dist/desktop-ocr_VERSION_ARCH.deb
# The bundle holds the window, the command line, the CPU engine and its models; never torch,
# lmdeploy or transformers (the local GPU engine is found outside it, as configured).
# Environment: PYTHON (the interpreter whose packages go in; default .venv/bin/python, set up
# by installer/setup.sh), DIST_DIR (default dist), WORK_DIR (default build), DEB_COMPRESS
# (dpkg-deb -Z: xz by default; none for a quick local check).
# Windows and macOS: run this in Git Bash / Terminal for the bundle (and Desktop OCR.app),
# then installer/windows/desktop-ocr.iss with Inno Setup's iscc for the Windows installer.
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-bundle}
case "$what" in bundle|deb) ;; *) echo "usage: bash installer/build.sh [bundle|deb]" >&2; exit 64 ;; esac
default_python=.venv/bin/python
[ -x .venv/Scripts/python.exe ] && default_python=.venv/Scripts/python.exe
python=${PYTHON:-$default_python}
dist=${DIST_DIR:-dist}
work=${WORK_DIR:-build}
mkdir -p "$dist" "$work"
dist=$(cd "$dist" && pwd)
work=$(cd "$work" && pwd)
started=$(date +%s)

if ! "$python" -c 'import PyInstaller, pynvml' 2>/dev/null; then
  echo "build: installing the bundle tools (pip install -e '.[bundle]')"
  "$python" -m pip install -q -e '.[bundle]'
fi

"$python" installer/icons.py "$work/icons"
# The window's translations go in compiled: the bundle has no lrelease to compile them.
"$python" -m desktop_ocr.gui.i18n compile >/dev/null
DESKTOP_OCR_ICONS="$work/icons" "$python" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath "$dist" --workpath "$work/pyinstaller" installer/desktop-ocr.spec
app=$dist/desktop-ocr

# The spec refuses forbidden modules; this also catches their libraries and data files.
leaked=$(find "$app" \( -iname 'torch*' -o -iname 'libtorch*' -o -iname 'lmdeploy*' \
  -o -iname 'transformers*' -o -iname 'libcudart*' -o -iname 'libcublas*' -o -iname 'triton*' \) -print)
if [ -n "$leaked" ]; then
  echo "build: the GPU stack must not be in the bundle, found:" >&2
  echo "$leaked" >&2
  exit 1
fi
find "$app" -name '*.onnx' | grep -q . || { echo "build: no OCR models in the bundle" >&2; exit 1; }
find "$app" -name 'desktop_ocr_zh_CN.qm' | grep -q . || { echo "build: no Chinese translation in the bundle" >&2; exit 1; }
exe=$app/desktop-ocr
[ -x "$exe.exe" ] && exe=$exe.exe
"$exe" --version >/dev/null || { echo "build: the bundled program does not start" >&2; exit 1; }
echo "build: $app ($(du -sh "$app" | cut -f1)) in $(( $(date +%s) - started )) s"

if [ "$what" = deb ]; then
  PYTHON="$python" bash installer/linux/build-deb.sh "$app" "$work/icons" "$dist"
fi
