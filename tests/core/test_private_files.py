"""Files that hold what the user did are readable by the user only."""

from __future__ import annotations

import stat

from desktop_ocr.core.settings import Settings


def test_settings_are_saved_private_even_over_a_world_readable_file(tmp_path):
    # GIVEN a settings file an older version left 0644
    path = tmp_path / "settings.json"
    path.write_text("{}")
    path.chmod(0o644)
    # WHEN the settings are saved (they hold an API key)
    Settings(api_key="sk-secret").save(path)
    # THEN the file is 0600 and holds the key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert Settings.load(path, env={}).api_key == "sk-secret"
