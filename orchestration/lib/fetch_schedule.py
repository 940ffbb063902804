"""When to fetch SBP's files: every day of SBP's usual release window (the 16th to the
22nd), and on any other day only while this month's release has not arrived yet."""

from __future__ import annotations

from datetime import date

RELEASE_WINDOW = range(16, 23)  # SBP prints its monthly ICT figure 16-22 days after the month


def window_start(today: date) -> date:
    """The 16th on or before today: when the current month's release became due."""
    if today.day >= RELEASE_WINDOW.start:
        return today.replace(day=RELEASE_WINDOW.start)
    previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, RELEASE_WINDOW.start)
    return previous


def should_fetch(today: date, last_download: date | None) -> tuple[bool, str]:
    """(fetch?, why) for a daily tick on `today` (Asia/Karachi), given the last new download."""
    if today.day in RELEASE_WINDOW:
        return True, f"{today:%d %b}: within SBP's release window (16th-22nd)"
    due = window_start(today)
    if last_download is not None and last_download >= due:
        return False, f"a new release was downloaded on {last_download} (due from {due})"
    return True, f"no new release since {due}: fetching daily until one appears"
