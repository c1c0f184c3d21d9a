from desktop_ocr.cli import main

raise SystemExit(main())
