"""When a placement's checkpoints fall, and when a checkpoint counts as due or missed.

Months are calendar months (``dateutil.relativedelta``): an exit on 31 January has its 1-month
checkpoint on 28 (or 29) February, its 3-month one on 30 April, its 6-month one on 31 July and
its 12-month one on 31 January of the next year — the last day of a shorter month, never a day
spilling into the next.
"""

from __future__ import annotations

import datetime

from dateutil.relativedelta import relativedelta

# A checkpoint becomes "due" this many days before its due date, so the survey can go out in the
# week it is due (the dashboard's "due this week" list shows the same window).
DUE_WINDOW_DAYS = 7
# A checkpoint with no response this many days after its due date (and not submitted) is "missed".
MISSED_AFTER_DAYS = 60
MAX_MONTHS = 36


def checkpoint_date(exit_date: datetime.date, months: int) -> datetime.date:
    return exit_date + relativedelta(months=months)


def checkpoint_dates(exit_date: datetime.date, months: list[int]) -> list[tuple[int, datetime.date]]:
    """``(months, due date)`` for each month count, in ascending order."""
    return [(m, checkpoint_date(exit_date, m)) for m in sorted(set(months))]


def due_from(today: datetime.date) -> datetime.date:
    """Checkpoints due on or before this date are "due" today."""
    return today + datetime.timedelta(days=DUE_WINDOW_DAYS)


def missed_before(today: datetime.date) -> datetime.date:
    """Checkpoints due before this date, still without a response, are "missed" today."""
    return today - datetime.timedelta(days=MISSED_AFTER_DAYS)
