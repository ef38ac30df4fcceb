"""Deadline defaults as data: the default rules and the 2026 calendar.

An administrator changes all of this at run time (``/api/v1/deadline-rules``,
``/api/v1/calendar``); ``flask deadlines seed`` only inserts what is missing.
"""

from dataclasses import dataclass
from datetime import date

from app.models.vocab import Channel, LegalTrack, PeriodUnit, Priority, Stage


@dataclass(frozen=True)
class DefaultRule:
    """One default time limit; the filters left as None match every case."""

    stage: Stage
    amount: int
    unit: PeriodUnit
    basis: str
    legal_track: LegalTrack | None = None
    channel: Channel | None = None
    priority: Priority | None = None

    @property
    def key(self) -> tuple:
        """What identifies a rule: its stage and filters (amount and unit are the editable part)."""
        return (self.stage, self.legal_track, self.channel, self.priority)


H, D, WD = PeriodUnit.HOURS, PeriodUnit.CALENDAR_DAYS, PeriodUnit.WORKING_DAYS
PETITION, VIOLATION = LegalTrack.PETITION, LegalTrack.VIOLATION_REPORT
URGENT = Priority.URGENT

# Statutory limits from 信访工作条例 (2022); 12369 and 12345 hotline practice; the city's
# own "first line, first time" targets (DOMAIN.md, Statutory time limits).
# fmt: off
DEFAULT_RULES: list[DefaultRule] = [
    DefaultRule(Stage.ACCEPT, 15, D, "《信访工作条例》第二十二条：收到信访事项应当予以登记，15日内分别处理"),
    DefaultRule(Stage.ACCEPT, 3, WD, "12369环保举报热线工作惯例：电话举报当场或3个工作日内决定是否受理",
                channel=Channel.PHONE_12369),
    DefaultRule(Stage.NOTICE, 15, D, "《信访工作条例》第二十三条：15日内书面告知信访人是否受理及处理途径",
                legal_track=PETITION),
    DefaultRule(Stage.SIGN, 24, H, "本市“第一线、第一次、第一时间”要求：交办后24小时内签收"),
    DefaultRule(Stage.SIGN, 2, H, "本市“第一线、第一次、第一时间”要求：紧急件2小时内签收", priority=URGENT),
    DefaultRule(Stage.SIGN, 1, WD, "12345热线工作惯例：工单1个工作日内签收", channel=Channel.TRANSFER_12345),
    DefaultRule(Stage.RETURN_WINDOW, 5, WD,
                "《信访工作条例》第二十三条：不属于职权范围的，5个工作日内提出异议并说明理由"),
    DefaultRule(Stage.RETURN_WINDOW, 2, WD, "12345热线工作惯例：错派工单2个工作日内说明理由退回",
                channel=Channel.TRANSFER_12345),
    DefaultRule(Stage.ONSITE, 24, H, "本市“第一线、第一次、第一时间”要求：签收后24小时内首次现场核查"),
    DefaultRule(Stage.ONSITE, 12, H, "本市“第一线、第一次、第一时间”要求：紧急件签收后12小时内到达现场",
                priority=URGENT),
    DefaultRule(Stage.REPORT, 7, D, "中央生态环境保护督察交办件工作惯例：7日内报送办理情况",
                channel=Channel.CENTRAL_INSPECTION),
    DefaultRule(Stage.REPORT, 7, D, "省生态环境保护督察交办件工作惯例：7日内报送办理情况",
                channel=Channel.PROVINCIAL_INSPECTION),
    DefaultRule(Stage.HANDLE, 60, D, "《信访工作条例》第三十四条：自受理之日起60日内办结"),
    DefaultRule(Stage.HANDLE, 60, D, "《信访工作条例》第三十四条：信访事项自受理之日起60日内办结",
                legal_track=PETITION),
    DefaultRule(Stage.HANDLE, 30, D, "12369环保举报工作惯例：举报件自受理之日起30日内办结",
                legal_track=VIOLATION),
    DefaultRule(Stage.FOLLOW_UP, 1, WD, "12345热线工作惯例：办结审核通过后次一工作日回访"),
]
# fmt: on

# 《信访工作条例》第三十四条: one extension, approved, of at most 30 days.
MAX_EXTENSION_DAYS = 30


@dataclass(frozen=True)
class Holiday:
    """One holiday of a State Council notice: the days off, and the weekend days worked instead."""

    name: str
    first_day: date
    last_day: date
    makeup_working_days: tuple[date, ...] = ()


# 国务院办公厅关于2026年部分节假日安排的通知 (2025-11-04, 新华社 published it the same day),
# https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm
HOLIDAYS_2026: list[Holiday] = [
    # 一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
    Holiday("元旦", date(2026, 1, 1), date(2026, 1, 3), (date(2026, 1, 4),)),
    # 二、春节：2月15日（周日）至23日（周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
    Holiday("春节", date(2026, 2, 15), date(2026, 2, 23), (date(2026, 2, 14), date(2026, 2, 28))),
    # 三、清明节：4月4日（周六）至6日（周一）放假，共3天。
    Holiday("清明节", date(2026, 4, 4), date(2026, 4, 6)),
    # 四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
    Holiday("劳动节", date(2026, 5, 1), date(2026, 5, 5), (date(2026, 5, 9),)),
    # 五、端午节：6月19日（周五）至21日（周日）放假，共3天。
    Holiday("端午节", date(2026, 6, 19), date(2026, 6, 21)),
    # 六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
    Holiday("中秋节", date(2026, 9, 25), date(2026, 9, 27)),
    # 七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
    Holiday("国庆节", date(2026, 10, 1), date(2026, 10, 7), (date(2026, 9, 20), date(2026, 10, 10))),
]
