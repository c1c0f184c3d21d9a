"""The installers of the three platforms offer the same file types, ones the app opens.

Only the Linux package is built here; the Windows script (Inno Setup) and the macOS bundle
settings (the PyInstaller spec) are checked as text: the types they register, the program
names they start, against the .desktop file and the spec.
"""

from __future__ import annotations

import configparser
import re
import xml.etree.ElementTree as ET
from pathlib import Path

from desktop_ocr.core.documents import PDF_LIKE_SUFFIXES
from desktop_ocr.core.imaging import IMAGE_SUFFIXES

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"
# What each MIME type is called on Windows (extensions) and on macOS (uniform type identifiers).
EXTENSIONS = {"image/png": {".png"}, "image/jpeg": {".jpg", ".jpeg"}, "image/tiff": {".tif", ".tiff"},
              "image/bmp": {".bmp"}, "image/webp": {".webp"}, "image/gif": {".gif"},
              "application/pdf": {".pdf"}}
UTIS = {"image/png": "public.png", "image/jpeg": "public.jpeg", "image/tiff": "public.tiff",
        "image/bmp": "com.microsoft.bmp", "image/webp": "org.webmproject.webp",
        "image/gif": "com.compuserve.gif", "application/pdf": "com.adobe.pdf"}


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(ROOT / "resources" / "desktop-ocr.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


def desktop_mime_types() -> set[str]:
    return {m for m in desktop_entry()["MimeType"].split(";") if m}


def test_linux_entry_and_metainfo_list_the_same_types_the_app_opens():
    # GIVEN the .desktop file and the AppStream metadata
    mime = desktop_mime_types()
    ns = ET.parse(INSTALLER / "linux" / "desktop-ocr.metainfo.xml").getroot()
    # THEN they name the same types, the app opens each, and the entry starts the window
    assert {m.text for m in ns.iter("mediatype")} == mime
    assert set(EXTENSIONS) == mime
    opens = IMAGE_SUFFIXES | set(PDF_LIKE_SUFFIXES)
    assert set().union(*EXTENSIONS.values()) <= opens
    assert desktop_entry()["Exec"].split()[0] == "desktop-ocr-gui"
    assert {b.text for b in ns.iter("binary")} == {"desktop-ocr", "desktop-ocr-gui"}


def test_windows_installer_offers_the_same_types_and_starts_the_windowed_program():
    # GIVEN the Inno Setup script and the spec
    iss = (INSTALLER / "windows" / "desktop-ocr.iss").read_text(encoding="utf-8")
    spec = (INSTALLER / "desktop-ocr.spec").read_text(encoding="utf-8")
    want = set().union(*(EXTENSIONS[m] for m in desktop_mime_types()))
    # THEN "Open with" and the app's SupportedTypes list exactly the .desktop file's types
    assert set(re.findall(r'Classes\\(\.\w+)\\OpenWithProgids"', iss)) == want
    assert set(re.findall(r'SupportedTypes"; ValueType: string; ValueName: "(\.\w+)"', iss)) == want
    # ... every registered entry is removed on uninstall (a key or its value) ...
    lines = [line for line in iss.splitlines() if line.startswith("Root: HKA")]
    assert all("uninsdeletevalue" in line for line in lines if "OpenWithProgids" in line)
    for key in ('Classes\\{#ProgId}"', 'Classes\\Applications\\{#AppExe}"', 'App Paths\\{#CliExe}"'):
        assert [line for line in lines if key in line and "uninsdeletekey" in line], key
    # ... and the programs it names are the ones the spec builds on Windows, from its folder
    assert '#define AppExe "desktop-ocr-gui.exe"' in iss and '_exe("desktop-ocr-gui", console=False)' in spec
    assert '#define CliExe "desktop-ocr.exe"' in iss and '_exe("desktop-ocr", console=' in spec
    assert 'Source: "..\\..\\dist\\desktop-ocr\\*"' in iss and 'name="desktop-ocr")' in spec


def test_macos_bundle_declares_the_same_document_types_and_the_screen_recording_reason():
    # GIVEN the spec's BUNDLE settings
    spec = (INSTALLER / "desktop-ocr.spec").read_text(encoding="utf-8")
    # THEN its document types are the .desktop file's types, opened as a viewer ...
    assert set(re.findall(r'\["((?:public|com|org)\.[\w.]+)"\]', spec)) == {UTIS[m] for m in desktop_mime_types()}
    assert '"CFBundleTypeRole": "Viewer"' in spec
    # ... the snip's Screen Recording prompt has its reason, and the bundle its identifier
    assert re.search(r'"NSScreenCaptureUsageDescription":\s*\n?\s*f?"[^"]{20,}', spec)
    assert 'bundle_identifier=f"io.github.{APP_ID}"' in spec
