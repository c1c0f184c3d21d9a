"""Desktop OCR: scans, photos, screenshots and PDFs to editable text and tables."""

__version__ = "0.1.0"
APP_NAME = "Desktop OCR"
APP_ID = "desktop-ocr"
