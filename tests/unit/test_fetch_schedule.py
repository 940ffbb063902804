from datetime import date

import pytest

from orchestration.lib.fetch_schedule import should_fetch, window_start


@pytest.mark.parametrize("day", range(16, 23))
def test_every_day_of_the_window_fetches(day):
    assert should_fetch(date(2026, 9, day), last_download=date(2026, 9, 16))[0]


def test_after_the_window_only_while_nothing_new_arrived():
    assert should_fetch(date(2026, 9, 25), last_download=None)[0]
    assert should_fetch(date(2026, 9, 25), last_download=date(2026, 8, 20))[0]
    assert not should_fetch(date(2026, 9, 25), last_download=date(2026, 9, 19))[0]


def test_a_late_release_is_still_chased_early_next_month():
    assert should_fetch(date(2026, 10, 3), last_download=date(2026, 8, 18))[0]
    assert not should_fetch(date(2026, 10, 3), last_download=date(2026, 9, 30))[0]
    assert not should_fetch(date(2026, 10, 10), last_download=date(2026, 9, 17))[0]


def test_window_start_crosses_the_year():
    assert window_start(date(2027, 1, 5)) == date(2026, 12, 16)
    assert window_start(date(2026, 7, 16)) == date(2026, 7, 16)


def test_the_last_download_is_read_from_the_manifests(tmp_path):
    from orchestration.lib.fetch import last_download_date

    assert last_download_date(tmp_path) is None
    (tmp_path / "20260918-dt.xls.manifest.json").write_text('{"fetched_at": "2026-09-18T10:00:00+00:00"}')
    (tmp_path / "20260820-dt.xls.manifest.json").write_text('{"fetched_at": "2026-08-20T10:00:00+00:00"}')
    (tmp_path / "broken.manifest.json").write_text("{")
    assert last_download_date(tmp_path) == date(2026, 9, 18)
