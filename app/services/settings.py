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
    # Grid scoring (考核), early warning (预警) and accountability lists (督查问责): DOMAIN.md 7, 11, 12.
    "score_item_points": (lambda v: isinstance(v, int | float) and 1 <= v <= 1000, "应为 1 至 1000 分"),
    "score_above_level_deduction": (lambda v: isinstance(v, int | float) and 0 <= v <= 100, "应为 0 至 100 分"),
    "score_repeat_above_level_deduction": (lambda v: isinstance(v, int | float) and 0 <= v <= 100,
                                           "应为 0 至 100 分"),
    "score_zero_during_campaign": (lambda v: v in (0, 1), "应为 1（清零）或 0（不清零）"),
    "warning_min_cases": (lambda v: isinstance(v, int) and 2 <= v <= 100, "应为 2 至 100 件"),
    "warning_radius_m": (lambda v: isinstance(v, int | float) and 10 <= v <= 10000, "应为 10 至 10000 米"),
    "warning_window_hours": (lambda v: isinstance(v, int) and 1 <= v <= 720, "应为 1 至 720 小时"),
    "interview_top_n": (lambda v: isinstance(v, int) and 0 <= v <= 100, "应为 0 至 100 个镇"),
    "interview_when_not_falling": (lambda v: v in (0, 1), "应为 1（约谈）或 0（不约谈）"),
    "unresolved_above_level_min": (lambda v: isinstance(v, int) and 1 <= v <= 100, "应为 1 至 100 次"),
    "reception_min_per_week": (lambda v: isinstance(v, int) and 0 <= v <= 20, "应为 0 至 20 次"),
    "reception_department_codes": (lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v),
                                   "应为部门代码列表"),
    "key_towns_n": (lambda v: isinstance(v, int) and 0 <= v <= 100, "应为 0 至 100 个镇"),
    # Grid patrols (网格巡查): DOMAIN.md "Grid patrols"; see services.patrol_rules.
    "patrol_rules": (lambda v: _valid_patrol_rules(v),
                     "应为各级网格（1、2、3）对重点、近期被投诉、一般对象的巡查频次："
                     "{\"times\": 次数, \"period_days\": 天数} 或 null"),
    "patrol_complained_days": (lambda v: isinstance(v, int) and 1 <= v <= 365, "应为 1 至 365 天"),
    "patrol_radius_m": (lambda v: isinstance(v, int | float) and 10 <= v <= 2000, "应为 10 至 2000 米"),
    "patrol_track_interval_s": (lambda v: isinstance(v, int) and 5 <= v <= 600, "应为 5 至 600 秒"),
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
    # Grid scoring: the petition item's full points; -2 per above-level petition the grid failed
    # to discover, handle or resolve, -4 per repeat above-level petition; 1 = zero the item when
    # an above-level petition arrives during a campaign.
    "score_item_points": 20,
    "score_above_level_deduction": 2,
    "score_repeat_above_level_deduction": 4,
    "score_zero_during_campaign": 1,
    # Early warning: this many complaints of one category within the radius and window.
    "warning_min_cases": 3,
    "warning_radius_m": 500,
    "warning_window_hours": 48,
    # Interviews (约谈): the top N towns by above-level petitions; 1 = also towns whose volume
    # has not fallen against the same period last year.
    "interview_top_n": 3,
    "interview_when_not_falling": 1,
    # Above-level petitions of this many times or more, still unresolved, are listed.
    "unresolved_above_level_min": 3,
    # Receptions (接访): each town and each listed department holds at least this many a week.
    "reception_min_per_week": 1,
    "reception_department_codes": ["env"],
    # Special checks (专项督查): the key towns are the top N by above-level petitions.
    "key_towns_n": 3,
    # Patrol frequencies per grid level and class of source: "times" patrols within
    # "period_days" days; null = that level has no duty for that class. Defaults from the
    # Chengde practice: level 3 patrols its grid every 2 days; level 2 patrols key sources
    # twice a week and the others every two weeks; level 1 patrols key or complained-about
    # sources weekly.
    "patrol_rules": {
        "3": {"key": {"times": 1, "period_days": 2}, "complained": {"times": 1, "period_days": 2},
              "ordinary": {"times": 1, "period_days": 2}},
        "2": {"key": {"times": 2, "period_days": 7}, "complained": {"times": 1, "period_days": 14},
              "ordinary": {"times": 1, "period_days": 14}},
        "1": {"key": {"times": 1, "period_days": 7}, "complained": {"times": 1, "period_days": 7},
              "ordinary": None},
    },
    # A source with a case received in the last N days is "complained-about".
    "patrol_complained_days": 30,
    # A patrol check-in farther than this from the source is kept but flagged.
    "patrol_radius_m": 100,
    # While a patrol is open (and the app in the foreground) its position is sampled this often.
    "patrol_track_interval_s": 30,
}


def _valid_patrol_rules(value) -> bool:
    """Rules for levels "1".."3" and every source class: {times, period_days} or null."""
    if not isinstance(value, dict) or set(value) != {"1", "2", "3"}:
        return False
    classes = {"key", "complained", "ordinary"}
    for per_class in value.values():
        if not isinstance(per_class, dict) or set(per_class) != classes:
            return False
        for rule in per_class.values():
            if rule is None:
                continue
            if not isinstance(rule, dict) or set(rule) != {"times", "period_days"}:
                return False
            times, days = rule["times"], rule["period_days"]
            if not (_plain_int(times) and _plain_int(days) and 1 <= times <= days <= 366):
                return False
    return True


def _plain_int(value) -> bool:
    """An int that is not a bool."""
    return isinstance(value, int) and not isinstance(value, bool)


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
