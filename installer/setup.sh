#!/usr/bin/env bash
# Set up Desktop OCR from a fresh Debian/Ubuntu checkout, non-interactively.
#   bash installer/setup.sh app    system libraries Qt needs + .venv with the app
#   bash installer/setup.sh test   the same + Xvfb/xclip/xdotool for the tests + test tools
#                                  (PyInstaller; desktop-file-utils and appstream check the .deb)
# Uses sudo for apt when not root. Safe to run again.
set -euo pipefail
mode=${1:-app}
cd "$(dirname "$0")/.."

# What Qt's xcb platform plugin and PySide6 need on a minimal system.
pkgs=(python3 python3-venv python3-pip libegl1 libgl1 libglib2.0-0 libfontconfig1 libfreetype6
      libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0 libxcb-cursor0 libxcb-icccm4 libxcb-image0
      libxcb-keysyms1 libxcb-randr0 libxcb-render-util0 libxcb-shape0 libxcb-xinerama0
      libxcb-xfixes0 libxcb-xkb1 libx11-xcb1 libxrender1 libxi6 fonts-noto-cjk)
if [ "$mode" = test ]; then
  pkgs+=(xvfb xclip xdotool xauth desktop-file-utils appstream)
fi

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  "${sudo_cmd[@]}" apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

python=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
if [ "$mode" = test ]; then
  # The transformers engine's tests run a tiny model on the CPU. torch first, pinned: a
  # bare "torch" requirement with none installed pulls a multi-GB CUDA build, while this
  # pin takes the CPU wheel the machines here keep on disk (pip's constraint file).
  .venv/bin/python -m pip install -q torch==2.13.0
  .venv/bin/python -m pip install -q -e '.[test,transformers]'
  # lmdeploy's own CLI parser for the launch-line tests (its CLI files only, under .cache/;
  # the tests that need it skip with this command as the reason if it could not be fetched).
  .venv/bin/python tests/tools/lmdeploy_cli.py fetch >/dev/null || echo "warning: lmdeploy's CLI source not fetched"
else
  .venv/bin/python -m pip install -q -e .
fi
# The window's translations (desktop_ocr/resources/i18n/*.ts -> .qm, with PySide6's lrelease).
.venv/bin/python -m desktop_ocr.gui.i18n compile >/dev/null
echo "Desktop OCR is set up in $(pwd)/.venv"
