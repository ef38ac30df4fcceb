"""Reporting periods: Beijing calendar dates in, a UTC interval [start, end) out.

One default for every ranking, score, list and export, the wall's panels included: the
running campaign (its whole span, as its phases define it), or else the last 30 days up
to today; or the dates the user picks. Every page and file that shows figures states the
period it covers (``StatedPeriod.heading``, ``file_part``).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from app.errors import InvalidInput
from app.services import clock
from app.services.campaign import phases

DEFAULT_DAYS = 30
SHORT_NAMES = {"campaign": "专项行动全程", "recent": f"最近{DEFAULT_DAYS}天", "picked": "自选期间"}


@dataclass(frozen=True)
class StatedPeriod:
    """A period with the words that state it: its first and last Beijing dates and its name."""

    start: datetime
    end: datetime
    first_day: date
    last_day: date
    name: str
    kind: str = "picked"  # "campaign" (the running one), "recent" (the last 30 days) or "picked"

    @property
    def label(self) -> str:
        """'2026-09-20 至 2026-12-31' (both days included); an end that is not a Beijing midnight
        with its time: '2026-11-07 23:20 至 2026-12-07 23:20' (the end itself not included)."""
        return self._words("%Y-%m-%d")

    @property
    def short_label(self) -> str:
        """'09-20 至 12-31' within one year (where a panel title has little room), else the label."""
        if self.first_day.year != self.last_day.year:
            return self.label
        return self._words("%m-%d")

    def _words(self, form: str) -> str:
        """Both ends with dates in ``form``: an end on a Beijing midnight as its day, else to the minute."""
        def bound(moment: datetime, day: date) -> str:
            if moment == clock.day_start(clock.beijing_date(moment)):
                return day.strftime(form)
            return moment.astimezone(clock.BEIJING).strftime(f"{form} %H:%M")
        return f"{bound(self.start, self.first_day)} 至 {bound(self.end, self.last_day)}"

    @property
    def short_name(self) -> str:
        """What kind of period it is, in a few characters (the wall's header)."""
        return SHORT_NAMES[self.kind]

    @property
    def heading(self) -> str:
        """The line a page or sheet carries: '统计期间：2026-09-20 至 2026-12-31（2026年…攻坚行动）'."""
        return f"统计期间：{self.label}（{self.name}）"

    @property
    def file_part(self) -> str:
        """The period in a file name: '2026-09-20至2026-12-31'."""
        return f"{self.first_day.isoformat()}至{self.last_day.isoformat()}"

    @property
    def ascii_file_part(self) -> str:
        """The period in a plain-ASCII fallback file name: '20260920-20261231'."""
        return f"{self.first_day:%Y%m%d}-{self.last_day:%Y%m%d}"

    @property
    def iso_interval(self) -> str:
        """The first and last day as an ISO 8601 interval of dates: '2026-09-20/2026-12-31'."""
        return f"{self.first_day.isoformat()}/{self.last_day.isoformat()}"

    def as_json(self) -> dict:
        """The period as JSON answers state it (the wall's panels, first-line measures)."""
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "first_day": self.first_day.isoformat(), "last_day": self.last_day.isoformat(),
                "kind": self.kind, "name": self.name, "short_name": self.short_name, "label": self.label,
                "short_label": self.short_label, "heading": self.heading}


def stated_period(start_on: date | None, end_on: date | None) -> StatedPeriod:
    """The period of the given dates (both included), or the default when neither is given."""
    if start_on is None and end_on is None:
        running = phases.current_campaign(clock.now())
        if running is not None:
            start, end = phases.campaign_period(running)
            return StatedPeriod(start, end, running.starts_on, running.ends_on, running.name, "campaign")
    picked = start_on is not None or end_on is not None
    end_on = end_on or clock.beijing_date(clock.now())
    start_on = start_on or end_on - timedelta(days=DEFAULT_DAYS - 1)
    if end_on < start_on:
        raise InvalidInput("结束日期不能早于开始日期。", {"end": ["早于开始日期"]})
    kind = "picked" if picked else "recent"
    name = SHORT_NAMES[kind] + ("" if picked else "，当前无进行中的专项行动")
    return StatedPeriod(clock.day_start(start_on), clock.day_start(end_on + timedelta(days=1)), start_on, end_on,
                        name, kind)


def period(start_on: date | None, end_on: date | None) -> tuple[datetime, datetime]:
    """From the first date's 00:00 to the day after the last date (Beijing time).

    Without dates: the running campaign, or else the last 30 days up to today.
    """
    stated = stated_period(start_on, end_on)
    return stated.start, stated.end


def describe(start: datetime, end: datetime) -> StatedPeriod:
    """A UTC interval [start, end) stated in Beijing dates (the last day is the one before ``end``)."""
    return StatedPeriod(start, end, clock.beijing_date(start), clock.beijing_date(end - timedelta(microseconds=1)),
                        "自选期间")


def year_before(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The same period a year earlier (same calendar dates; 29 Feb becomes 28 Feb)."""
    def back(moment: datetime) -> datetime:
        try:
            return moment.replace(year=moment.year - 1)
        except ValueError:
            return moment.replace(year=moment.year - 1, day=28)
    return back(start), back(end)
