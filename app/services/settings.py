"""Settings an administrator may change, with their defaults (services read them here)."""

from app.extensions import db
from app.models import Setting

DEFAULTS: dict[str, object] = {
    # Repeat detection at intake: same category within this radius and period.
    "repeat_radius_m": 200,
    "repeat_period_days": 180,
    # Share of a clock's time after which it turns yellow and the handler is reminded.
    "yellow_at": 0.75,
}


def get_setting(key: str):
    """The stored value of a setting, or its default."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    row = db.session.get(Setting, key)
    return DEFAULTS[key] if row is None else row.value


def set_setting(key: str, value) -> None:
    """Store a setting (flushed, not committed)."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()
