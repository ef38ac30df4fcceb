"""The daily summary of cases (每日汇总): counts per Beijing day that the wall's panels, the
village scores and the town ranking add up instead of reading a million cases.

A row counts the cases of one key of one kind (``services.day_stats`` says which cases and
what each count means). Rows are only ever inserted or deleted, never updated: a write adds
a row holding the difference it made (``delta``), the worker folds those into one row per key,
so the answer is the sum of a key's rows at every moment. services.day_stats writes them;
nothing else does.
"""

from sqlalchemy import Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db

COUNTS = ("total", "open", "closed", "above_level", "above_channel", "repeat", "signed", "signed_on_time",
          "onsite", "onsite_on_time", "first_time", "rated", "satisfied", "single", "repeat_above", "exempt",
          "irregular_only", "zeroing")


class DayStat(db.Model):
    """Counts of the cases of one key (kind, Beijing day, town, grid, category, due day)."""

    __tablename__ = "day_stats"
    # A period's rows by kind and day; the worker's unfolded rows through a partial index.
    __table_args__ = (
        Index("ix_day_stats_kind_day", "kind", "day"),
        Index("ix_day_stats_delta", "id", sqlite_where=text("delta"), postgresql_where=text("delta")),
        # "Overdue now": the open rows due before today (``o``) or in today's hours (``h``).
        Index("ix_day_stats_kind_due", "kind", "due_day", "day", sqlite_where=text("due_day IS NOT NULL"),
              postgresql_where=text("due_day IS NOT NULL"), postgresql_include=["open", "town_id"]),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # "r" received, "o" open by due day, "h" by due hour, "p" above-level and irregular petitions, "l" listed
    # (久拖不解) from a day on: see services.day_stats.
    kind: Mapped[str] = mapped_column(String(1))
    # Days since 1970-01-01 in Beijing time (UTC+8, no daylight saving).
    day: Mapped[int] = mapped_column(Integer)
    town_id: Mapped[int | None] = mapped_column(Integer)
    grid_id: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(32))
    # The due day (a day number), or for "h" rows the due hour (hours since 1970-01-01 00:00 UTC).
    due_day: Mapped[int | None] = mapped_column(Integer)
    # True for a write's difference, not yet folded by the worker.
    delta: Mapped[bool] = mapped_column(Boolean, default=True)
    total: Mapped[int] = mapped_column(Integer, default=0)
    open: Mapped[int] = mapped_column(Integer, default=0)
    closed: Mapped[int] = mapped_column(Integer, default=0)
    above_level: Mapped[int] = mapped_column(Integer, default=0)
    above_channel: Mapped[int] = mapped_column(Integer, default=0)
    repeat: Mapped[int] = mapped_column(Integer, default=0)
    signed: Mapped[int] = mapped_column(Integer, default=0)
    signed_on_time: Mapped[int] = mapped_column(Integer, default=0)
    onsite: Mapped[int] = mapped_column(Integer, default=0)
    onsite_on_time: Mapped[int] = mapped_column(Integer, default=0)
    first_time: Mapped[int] = mapped_column(Integer, default=0)
    rated: Mapped[int] = mapped_column(Integer, default=0)
    satisfied: Mapped[int] = mapped_column(Integer, default=0)
    single: Mapped[int] = mapped_column(Integer, default=0)
    repeat_above: Mapped[int] = mapped_column(Integer, default=0)
    exempt: Mapped[int] = mapped_column(Integer, default=0)
    irregular_only: Mapped[int] = mapped_column(Integer, default=0)
    zeroing: Mapped[int] = mapped_column(Integer, default=0)
