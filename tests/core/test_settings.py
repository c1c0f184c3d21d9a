"""Settings: one typed object saved atomically; a damaged file gives the defaults and says
so, and is kept; values that cannot be used fall back to their defaults one by one."""

from __future__ import annotations

import json

import pytest

from desktop_ocr.core.settings import Settings


@pytest.mark.parametrize("content", [b"{ not json", b"", b"\xff\xfe garbage", b"[1, 2, 3]",
                                     b'{"engine": "cpu"'])
def test_a_damaged_file_gives_defaults_a_problem_and_is_kept(tmp_path, content):
    # GIVEN a settings file that cannot be read (cut by a crash, garbage, not an object)
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    # WHEN the app loads it
    settings = Settings.load(path, env={})
    # THEN it starts with the defaults, and says why once
    assert settings == Settings()
    assert settings.problem is not None and settings.problem.path == path
    assert settings.problem.reason and not settings.problem.keys
    # AND the damaged file is kept beside, as it was, so the next save loses nothing
    kept = settings.problem.kept
    assert kept is not None and kept.parent == tmp_path and kept.name.startswith("settings.json.damaged-")
    assert kept.read_bytes() == content and not path.exists()
    # AND saving now writes a good file that loads without a problem
    settings.save(path)
    again = Settings.load(path, env={})
    assert again == Settings() and again.problem is None


def test_values_that_cannot_be_used_fall_back_one_by_one(tmp_path):
    # GIVEN a file with good values and bad ones (wrong type, not a choice)
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"task": "table", "timeout": "soon", "theme": "purple",
                                "max_in_flight": 8, "engine": "quantum"}))
    settings = Settings.load(path, env={})
    # THEN the good ones are used, the bad ones keep their defaults, and they are named
    assert (settings.task, settings.max_in_flight) == ("table", 8)
    assert (settings.timeout, settings.theme, settings.engine) == (120.0, "system", "auto")
    assert settings.problem is not None and set(settings.problem.keys) == {"timeout", "theme", "engine"}
    assert settings.problem.kept is None and path.exists()  # the file itself is fine


def test_a_good_file_and_no_file_have_no_problem(tmp_path):
    path = tmp_path / "settings.json"
    assert Settings.load(path, env={}).problem is None
    Settings(theme="dark", language="zh_CN", page_cache_mb=256).save(path)
    loaded = Settings.load(path, env={})
    assert loaded.problem is None
    assert (loaded.theme, loaded.language, loaded.page_cache_mb) == ("dark", "zh_CN", 256)
    # the problem is not a setting: it is never saved
    assert "problem" not in json.loads(path.read_text())
