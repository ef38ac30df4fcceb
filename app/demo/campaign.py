"""The demo city's campaign (专项行动): the plan's 100 days with its three phases, so the wall,
the campaign pages and the stage report show a running campaign, as a real city's would.

The plan's dates (自查自纠 from 20 September, 攻坚化解 to 15 December, 总结评估 to the end of
the year) are used when the demo is seeded within them; seeded at another time of year, the
phases keep their lengths and move so that today falls in the tackling phase (攻坚化解).
"""

from datetime import datetime, timedelta

from sqlalchemy import select

from app.extensions import db
from app.models import Campaign, User
from app.services.campaign import phases
from app.services.clock import beijing_date

# Seeded outside the plan's dates, today is this many days into the tackling phase.
DAYS_INTO_TACKLING = 30


def seed_campaign(now: datetime, created_by: str = "command") -> Campaign:
    """This year's campaign, created by the command office as the admin page would (audited)."""
    actor = db.session.scalar(select(User).where(User.username == created_by))
    today = beijing_date(now)
    campaign = phases.create_campaign(actor, today.year)
    if not campaign.starts_on <= today <= campaign.ends_on:
        tackling = next(p for p in campaign.phases if p.code == "tackling")
        shift = today - timedelta(days=DAYS_INTO_TACKLING) - tackling.starts_on
        for item in (*campaign.phases, campaign):
            item.starts_on, item.ends_on = item.starts_on + shift, item.ends_on + shift
        for requirement in campaign.requirements:
            requirement.due_on += shift
    db.session.flush()
    return campaign
