#!/usr/bin/env bash
# Build the Debian package from a finished bundle (installer/build.sh deb calls this).
#   bash installer/linux/build-deb.sh BUNDLE_DIR ICONS_DIR OUT_DIR
# Installs to /opt/desktop-ocr, with desktop-ocr and desktop-ocr-gui in /usr/bin, the menu
# entry, hicolor icons, AppStream metainfo and "Open with" for images and PDFs (the .desktop
# file's MimeType). Needs dpkg-deb and ldd, nothing else; root is not needed (the files
# are owned by root inside the package all the same).
# DEB_COMPRESS: dpkg-deb's -Z (xz by default; gzip builds faster, for tests).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bundle=$(cd "${1:?bundle folder}" && pwd)
icons=$(cd "${2:?icons folder (installer/icons.py)}" && pwd)
out=${3:?output folder}
python=${PYTHON:-python3}
compress=${DEB_COMPRESS:-xz}

[ -x "$bundle/desktop-ocr" ] || { echo "build-deb: $bundle/desktop-ocr is missing" >&2; exit 1; }
version=$("$bundle/desktop-ocr" --version | awk '{print $2}')
[ -n "$version" ] || { echo "build-deb: the bundle did not say its version" >&2; exit 1; }
arch=$(dpkg --print-architecture)
date=$(git -C "$root" log -1 --format=%cs 2>/dev/null || date -u +%F)

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
pkg=$stage/pkg
install -d "$pkg/DEBIAN" "$pkg/opt" "$pkg/usr/bin" "$pkg/usr/share/applications" \
  "$pkg/usr/share/metainfo" "$pkg/usr/share/icons/hicolor/scalable/apps" "$pkg/usr/share/doc/desktop-ocr"
cp -a "$bundle" "$pkg/opt/desktop-ocr"
# Relative links: they resolve inside any root dpkg installs into. The bundle's program finds
# its _internal folder from its real path, and picks the window by the name it was run as.
ln -s ../../opt/desktop-ocr/desktop-ocr "$pkg/usr/bin/desktop-ocr"
ln -s ../../opt/desktop-ocr/desktop-ocr "$pkg/usr/bin/desktop-ocr-gui"
install -m 644 "$root/resources/desktop-ocr.desktop" "$pkg/usr/share/applications/desktop-ocr.desktop"
install -m 644 "$root/desktop_ocr/resources/desktop-ocr.svg" "$pkg/usr/share/icons/hicolor/scalable/apps/desktop-ocr.svg"
(cd "$icons" && find hicolor -name '*.png' -print0) | while IFS= read -r -d '' png; do
  install -D -m 644 "$icons/$png" "$pkg/usr/share/icons/$png"
done
sed -e "s/@VERSION@/$version/" -e "s/@DATE@/$date/" "$here/desktop-ocr.metainfo.xml" \
  > "$pkg/usr/share/metainfo/io.github.desktop_ocr.metainfo.xml"
cat > "$pkg/usr/share/doc/desktop-ocr/copyright" <<EOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: desktop-ocr

Files: *
License: MIT

Files: opt/desktop-ocr/_internal/*
Comment: Python, Qt (PySide6, LGPL-3.0: the libraries are separate shared files in
 /opt/desktop-ocr/_internal and can be replaced), OpenCV, ONNX Runtime, PyMuPDF (AGPL-3.0),
 RapidOCR and its PP-OCR models, NumPy, Pillow and others, each under its own licence;
 the *.dist-info folders there hold them.
License: various
EOF
install -m 755 "$here/postinst" "$here/postrm" "$pkg/DEBIAN/"

# Normal modes whatever the umask of the build was.
find "$pkg" -type d -exec chmod 755 {} +
find "$pkg" -type f -exec chmod go-w {} +

depends=$("$python" "$here/deb_depends.py" "$bundle" 2>/dev/null)
[ -n "$depends" ] || { echo "build-deb: could not work out the package's dependencies" >&2; exit 1; }
installed_kib=$(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
cat > "$pkg/DEBIAN/control" <<EOF
Package: desktop-ocr
Version: $version
Architecture: $arch
Maintainer: Desktop OCR developers <desktop-ocr@users.noreply.github.com>
Installed-Size: $installed_kib
Depends: $depends
Recommends: fonts-noto-cjk, xclip | wl-clipboard
Suggests: xdg-desktop-portal
Section: graphics
Priority: optional
Description: text and tables from scans, photos, screenshots and PDFs
 Drop a file in or paste a screenshot, and the text streams into the result
 pane. With an NVIDIA GPU the app starts a local InternVL3 model in an LMDeploy
 server (installed separately); without one it uses its embedded CPU OCR
 engine (PP-OCR models, included). Nothing leaves the machine.
EOF

mkdir -p "$out"
deb="$out/desktop-ocr_${version}_${arch}.deb"
dpkg-deb --root-owner-group -Z"$compress" --build "$pkg" "$deb" >/dev/null
echo "build-deb: $deb ($(du -h "$deb" | cut -f1), installs $((installed_kib / 1024)) MiB)"
