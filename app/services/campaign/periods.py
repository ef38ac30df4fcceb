"""Reporting periods: Beijing calendar dates in, a UTC interval [start, end) out."""

from datetime import date, datetime, timedelta

from app.errors import InvalidInput
from app.services import clock
from app.services.campaign import phases


def period(start_on: date | None, end_on: date | None) -> tuple[datetime, datetime]:
    """From the first date's 00:00 to the day after the last date (Beijing time).

    Without dates: the running campaign, or else the last 30 days up to today.
    """
    now = clock.now()
    if start_on is None and end_on is None:
        running = phases.current_campaign(now)
        if running is not None:
            return phases.campaign_period(running)
    end_on = end_on or clock.beijing_date(now)
    start_on = start_on or end_on - timedelta(days=29)
    if end_on < start_on:
        raise InvalidInput("结束日期不能早于开始日期。", {"end": ["早于开始日期"]})
    return clock.day_start(start_on), clock.day_start(end_on + timedelta(days=1))
