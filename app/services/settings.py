"""Settings an administrator may change, with their defaults (services read them here)."""

from collections.abc import Callable

from app.extensions import db
from app.models import Setting
from app.services.errors import InvalidInput, NotFound

# Each setting: default and the check a new value must pass (with the message if it fails).
RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    "repeat_radius_m": (lambda v: isinstance(v, int | float) and 10 <= v <= 5000, "应为 10 至 5000 米"),
    "repeat_period_days": (lambda v: isinstance(v, int) and 1 <= v <= 3650, "应为 1 至 3650 天"),
    "yellow_at": (lambda v: isinstance(v, int | float) and 0.1 <= v <= 0.99, "应为 0.1 至 0.99 之间的比例"),
    "gps_accept_m": (lambda v: isinstance(v, int | float) and 1 <= v <= 500, "应为 1 至 500 米"),
    "gps_warn_m": (lambda v: isinstance(v, int | float) and 10 <= v <= 5000, "应为 10 至 5000 米"),
    "photo_far_m": (lambda v: isinstance(v, int | float) and 10 <= v <= 50000, "应为 10 至 50000 米"),
}

DEFAULTS: dict[str, object] = {
    # Repeat detection at intake: same category within this radius and period.
    "repeat_radius_m": 200,
    "repeat_period_days": 180,
    # Share of a clock's time after which it turns yellow and the handler is reminded.
    "yellow_at": 0.75,
    # The inspector app accepts a GPS fix at or under this accuracy, and warns above the next.
    "gps_accept_m": 20,
    "gps_warn_m": 100,
    # A photo whose EXIF position lies farther than this from the check-in is flagged.
    "photo_far_m": 500,
}


def get_setting(key: str):
    """The stored value of a setting, or its default."""
    if key not in DEFAULTS:
        raise KeyError(f"unknown setting {key!r}")
    row = db.session.get(Setting, key)
    return DEFAULTS[key] if row is None else row.value


def all_settings() -> dict[str, object]:
    """Every setting with its current value."""
    return {key: get_setting(key) for key in DEFAULTS}


def set_setting(key: str, value) -> None:
    """Store a checked setting (flushed, not committed); bad values raise InvalidInput."""
    if key not in DEFAULTS:
        raise NotFound("没有这个参数。")
    check, message = RULES[key]
    if isinstance(value, bool) or not check(value):
        raise InvalidInput(f"参数 {key} {message}。", {"value": [message]})
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()
