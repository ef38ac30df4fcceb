"""Settings an administrator may change: one table that holds, for each, its default, the
check a new value must pass, the message when it fails, its Chinese label and help.

Validation (``set_setting``), defaults (``get_setting``) and the admin page all read
``SETTINGS``: adding a setting is one row here, and it appears, labelled, on /admin/settings.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.errors import InvalidInput, NotFound
from app.extensions import db
from app.models import Setting

# The stored values, read once per transaction into the session's ``info``: a page that
# colours fifty cases asks for ``yellow_at`` fifty times and should cost one statement.
_CACHE = "settings"


@dataclass(frozen=True)
class SettingDef:
    """One setting: its key, default, check (with the message when it fails), label and help."""

    key: str
    default: object
    check: Callable[[object], bool]
    message: str
    label: str
    help: str = ""

    @property
    def structured(self) -> bool:
        """Lists and objects are edited as JSON; everything else is a number."""
        return isinstance(self.default, dict | list)


def _number(low: float, high: float, integer: bool = False) -> Callable[[object], bool]:
    """A check for a number (an int when ``integer``) within [low, high]; never a bool."""
    kinds = int if integer else int | float
    return lambda v: isinstance(v, kinds) and not isinstance(v, bool) and low <= v <= high


def _flag(v) -> bool:
    """A 0/1 switch."""
    return v in (0, 1) and not isinstance(v, bool)


_DEFAULT_PATROL_RULES = {
    "3": {"key": {"times": 1, "period_days": 2}, "complained": {"times": 1, "period_days": 2},
          "ordinary": {"times": 1, "period_days": 2}},
    "2": {"key": {"times": 2, "period_days": 7}, "complained": {"times": 1, "period_days": 14},
          "ordinary": {"times": 1, "period_days": 14}},
    "1": {"key": {"times": 1, "period_days": 7}, "complained": {"times": 1, "period_days": 7},
          "ordinary": None},
}

SETTINGS: dict[str, SettingDef] = {row.key: row for row in (
    # Intake (受理): repeat detection looks for the same category within this radius and period.
    SettingDef("repeat_radius_m", 200, _number(10, 5000), "应为 10 至 5000 米", "重复件判定半径（米）",
               "受理时在此半径内查找同类案件。"),
    SettingDef("repeat_period_days", 180, _number(1, 3650, True), "应为 1 至 3650 天", "重复件判定期限（天）",
               "受理时在此期限内查找同类案件。"),
    # Deadlines: the share of a clock's time after which it turns yellow and the handler is reminded.
    SettingDef("yellow_at", 0.75, _number(0.1, 0.99), "应为 0.1 至 0.99 之间的比例", "黄色预警：时限已用比例",
               "时限用去此比例后案件变黄并提醒承办人，例如 0.75 即 75%。"),
    # The inspector app accepts a GPS fix at or under this accuracy, and warns above the next.
    SettingDef("gps_accept_m", 20, _number(1, 500), "应为 1 至 500 米", "定位可接受精度（米）",
               "手机定位精度达到此值即直接采用。"),
    SettingDef("gps_warn_m", 100, _number(10, 5000), "应为 10 至 5000 米", "定位精度警告（米）",
               "定位精度差于此值时提醒网格员。"),
    SettingDef("photo_far_m", 500, _number(10, 50000), "应为 10 至 50000 米",
               "照片拍摄位置偏离核查点的提示距离（米）", "照片自带的拍摄位置离核查点超过此距离即标记。"),
    # On-site checks (现场核查): a check farther from the case or with a worse fix is kept but
    # flagged, and stops the on-site clock only once a supervisor accepts it.
    SettingDef("onsite_max_distance_m", 500, _number(10, 50000), "应为 10 至 50000 米",
               "现场核查离案件位置的最大距离（米）", "超过此距离的核查仍保存，但须审核确认后才计为现场核查。"),
    SettingDef("onsite_max_accuracy_m", 100, _number(5, 5000), "应为 5 至 5000 米",
               "现场核查可接受的最大定位误差（米）", "定位误差大于此值的核查须审核确认后才计为现场核查。"),
    SettingDef("photo_max_age_minutes", 120, _number(1, 10080, True), "应为 1 至 10080 分钟",
               "照片早于核查时间的最长间隔（分钟）", "相机记录的拍摄时间早于核查超过此时长的照片会被标记。"),
    SettingDef("upload_originals_on_wifi", 1, _flag, "应为 1（上传）或 0（不上传）",
               "连接 Wi-Fi 时同时上传照片原图（1 是，0 否）",
               "原图保留相机的拍摄时间和位置；移动网络下只上传压缩件。"),
    # Grid scoring (考核), DOMAIN.md 7: the item's points, -2 per above-level petition the grid
    # failed to discover, handle or resolve, -4 per repeat one, and whether a campaign zeroes it.
    SettingDef("score_item_points", 20, _number(1, 1000), "应为 1 至 1000 分", "信访考核项满分（分）"),
    SettingDef("score_above_level_deduction", 2, _number(0, 100), "应为 0 至 100 分",
               "每件越级访扣分（分）", "网格未能先发现、先处置或化解的越级访，每件扣分。"),
    SettingDef("score_repeat_above_level_deduction", 4, _number(0, 100), "应为 0 至 100 分",
               "每件重复越级访扣分（分）"),
    SettingDef("score_zero_during_campaign", 1, _flag, "应为 1（清零）或 0（不清零）",
               "专项行动期间出现越级访该项清零（1 是，0 否）"),
    # Early warning (预警), DOMAIN.md 11: this many complaints of one category in the radius and window.
    SettingDef("warning_min_cases", 3, _number(2, 100, True), "应为 2 至 100 件", "预警：同类投诉件数（件）"),
    SettingDef("warning_radius_m", 500, _number(10, 10000), "应为 10 至 10000 米", "预警：范围半径（米）"),
    SettingDef("warning_window_hours", 48, _number(1, 720, True), "应为 1 至 720 小时", "预警：时间窗口（小时）"),
    # Accountability (督查问责), DOMAIN.md 12.
    SettingDef("interview_top_n", 3, _number(0, 100, True), "应为 0 至 100 个镇",
               "约谈：越级访最多的前几个镇（个）"),
    SettingDef("interview_when_not_falling", 1, _flag, "应为 1（约谈）或 0（不约谈）",
               "约谈：信访量未较去年同期下降的镇也约谈（1 是，0 否）",
               "去年同期数据取自系统记录；系统记录不足一年时取“历史信访量”中录入的月度件数，缺少时该项不评。"),
    SettingDef("unresolved_above_level_min", 3, _number(1, 100, True), "应为 1 至 100 次",
               "久拖不决：越级访达到几次列入名单（次）"),
    # Receptions (接访): each town and each listed department holds at least this many a week.
    SettingDef("reception_min_per_week", 1, _number(0, 20, True), "应为 0 至 20 次", "每周最少接访次数（次）"),
    SettingDef("reception_department_codes", ["env"],
               lambda v: isinstance(v, list) and all(isinstance(c, str) for c in v), "应为部门代码列表",
               "大接访参加部门（部门代码列表）", "JSON 列表，例如 [\"env\", \"urban\"]。"),
    # Special checks (专项督查): the key towns are the top N by above-level petitions.
    SettingDef("key_towns_n", 3, _number(0, 100, True), "应为 0 至 100 个镇", "专项督查重点镇数量（个）"),
    # Grid patrols (网格巡查), DOMAIN.md "Grid patrols"; see services.patrols.rules. Defaults from
    # the Chengde practice: level 3 every source every 2 days; level 2 key sources twice a week,
    # the others every two weeks; level 1 key or complained-about sources weekly.
    SettingDef("patrol_rules", _DEFAULT_PATROL_RULES, lambda v: _valid_patrol_rules(v),
               "应为各级网格（1、2、3）对重点、近期被投诉、一般对象的巡查频次："
               "{\"times\": 次数, \"period_days\": 天数} 或 null",
               "巡查频次：各级网格对重点、近期被投诉、一般监管对象",
               "times 次 / period_days 天，null 为不要求。"),
    SettingDef("patrol_complained_days", 30, _number(1, 365, True), "应为 1 至 365 天",
               "近期被投诉对象：关联案件在最近多少天内受理（天）"),
    SettingDef("patrol_radius_m", 100, _number(10, 2000), "应为 10 至 2000 米", "巡查打卡有效半径（米）",
               "打卡位置离监管对象超过此距离仍记录，但标记为范围外。"),
    SettingDef("patrol_track_interval_s", 30, _number(5, 600, True), "应为 5 至 600 秒", "巡查轨迹采样间隔（秒）",
               "巡查进行中（应用在前台时）每隔此时间记录一次位置。"),
    # Notifications (消息推送): SMS and group-robot messages wait out the quiet hours (city
    # time, start hour to end hour) unless urgent (督办, 预警); a failed send is retried with
    # growing pauses up to the attempt limit.
    SettingDef("notify_quiet_start_hour", 22, _number(0, 23, True), "应为 0 至 23 点",
               "免打扰开始（时）", "此时起短信和群消息暂缓发送，督办和预警除外。"),
    SettingDef("notify_quiet_end_hour", 7, _number(0, 23, True), "应为 0 至 23 点",
               "免打扰结束（时）", "与开始相同即不设免打扰。"),
    SettingDef("notify_max_attempts", 5, _number(1, 20, True), "应为 1 至 20 次",
               "短信和群消息最多尝试次数（次）", "每次失败后分别等待 1、5、15、60 分钟……再试，仍失败即记为发送失败。"),
    # Long-unresolved cases (久拖不解), plan §四.3: an open case is listed when it meets any of
    # these (or ``unresolved_above_level_min`` above-level petitions), is followed up every
    # ``revisit_interval_days`` while listed, and the list and exposures feed the interviews.
    SettingDef("long_unresolved_open_days", 90, _number(1, 3650, True), "应为 1 至 3650 天",
               "久拖不解：立案后超过多少天仍未办结（天）", "自收到信访之日起算。"),
    SettingDef("long_unresolved_overdue_days", 15, _number(0, 3650, True), "应为 0 至 3650 天",
               "久拖不解：超过办理期限多少天仍未办结（天）", "办结期限已过、尚未答复的案件。"),
    SettingDef("long_unresolved_reopened_min", 2, _number(1, 100, True), "应为 1 至 100 次",
               "久拖不解：重新办理达到几次（次）", "因不满意或重复信访而重新办理的次数。"),
    SettingDef("revisit_interval_days", 15, _number(1, 365, True), "应为 1 至 365 天",
               "久拖不解案件定期回访间隔（天）", "列入久拖不解名单的案件每隔此天数须回访信访人一次。"),
    SettingDef("interview_long_unresolved_min", 3, _number(0, 1000, True), "应为 0 至 1000 件",
               "约谈：久拖不解案件达到几件的镇（件，0 为不约谈）", "重点积案化解不力的镇列入约谈名单。"),
    SettingDef("interview_when_exposed", 1, _flag, "应为 1（约谈）或 0（不约谈）",
               "约谈：期间内有案件被媒体曝光的镇也约谈（1 是，0 否）"),
    # Grid placement (issue 18): a point in a sliver gap between boundaries goes to the nearest
    # grid within this distance, flagged; beyond it the point is outside every grid.
    SettingDef("grid_gap_tolerance_m", 50, _number(0, 500), "应为 0 至 500 米", "网格缝隙容差（米）",
               "登记位置不在任何网格内、但距最近网格不超过此距离时，归入该网格并标记；0 为不归入。"),
    # Early warning counts people, not calls (rules of the first-year deployment): complaints
    # without a known petitioner this close to one another count as one.
    SettingDef("warning_same_place_m", 30, _number(1, 500), "应为 1 至 500 米",
               "预警：匿名投诉视为同一地点的距离（米）",
               "预警按不同信访人计数；无法识别信访人的投诉，相距在此距离内的视为同一来源。"),
)}

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
    if key not in SETTINGS:
        raise KeyError(f"unknown setting {key!r}")
    stored = _stored()
    return stored[key] if key in stored else SETTINGS[key].default


def _stored() -> dict[str, object]:
    """Every stored value, one read per transaction (a commit or rollback forgets them)."""
    info = db.session.info
    if _CACHE not in info:
        info[_CACHE] = dict(db.session.execute(select(Setting.key, Setting.value)).all())
    return info[_CACHE]


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _forget_stored(session: Session) -> None:
    """Another request may have changed a setting: read them afresh in the next transaction."""
    session.info.pop(_CACHE, None)


def all_settings() -> dict[str, object]:
    """Every setting with its current value."""
    return {key: get_setting(key) for key in SETTINGS}


def set_setting(key: str, value) -> None:
    """Store a checked setting (flushed, not committed); bad values raise InvalidInput."""
    row_def = SETTINGS.get(key)
    if row_def is None:
        raise NotFound("没有这个参数。")
    if isinstance(value, bool) or not row_def.check(value):
        raise InvalidInput(f"参数「{row_def.label}」{row_def.message}。", {"value": [row_def.message]})
    row = db.session.get(Setting, key)
    if row is None:
        db.session.add(Setting(key=key, value=value))
    else:
        row.value = value
    db.session.flush()
    _stored()[key] = value
