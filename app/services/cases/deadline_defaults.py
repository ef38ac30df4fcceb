"""Deadline defaults as data: the default rules and the holiday notices of the years known.

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


# The State Council's notices (国务院办公厅关于某年部分节假日安排的通知) as published, their
# numbered lines only; services.cases.holiday_notice reads them exactly as it reads a notice
# an administrator pastes, so the shipped years and an imported year follow one rule.
# 2023: 国办发明电〔2022〕16号, 2022-12-08; 2024: 国办发明电〔2023〕7号, 2023-10-25;
# 2025: 国办发明电〔2024〕12号, 2024-11-12; 2026: 2025-11-04, https://www.gov.cn/zhengce/zhengceku/202511/content_7047091.htm
HOLIDAY_NOTICES: dict[int, str] = {
    2023: """国务院办公厅关于2023年部分节假日安排的通知
一、元旦：2022年12月31日至2023年1月2日放假调休，共3天。
二、春节：1月21日至27日放假调休，共7天。1月28日（星期六）、1月29日（星期日）上班。
三、清明节：4月5日放假，共1天。
四、劳动节：4月29日至5月3日放假调休，共5天。4月23日（星期日）、5月6日（星期六）上班。
五、端午节：6月22日至24日放假调休，共3天。6月25日（星期日）上班。
六、中秋节、国庆节：9月29日至10月6日放假调休，共8天。10月7日（星期六）、10月8日（星期日）上班。
""",
    2024: """国务院办公厅关于2024年部分节假日安排的通知
一、元旦：1月1日放假，与周末连休。
二、春节：2月10日至17日放假调休，共8天。2月4日（星期日）、2月18日（星期日）上班。鼓励各单位结合带薪年休假等制度落实，安排职工在除夕（2月9日）休息。
三、清明节：4月4日至6日放假调休，共3天。4月7日（星期日）上班。
四、劳动节：5月1日至5日放假调休，共5天。4月28日（星期日）、5月11日（星期六）上班。
五、端午节：6月10日放假，与周末连休。
六、中秋节：9月15日至17日放假调休，共3天。9月14日（星期六）上班。
七、国庆节：10月1日至7日放假调休，共7天。9月29日（星期日）、10月12日（星期六）上班。
""",
    2025: """国务院办公厅关于2025年部分节假日安排的通知
一、元旦：1月1日（周三）放假1天，不调休。
二、春节：1月28日（农历除夕、周二）至2月4日（农历正月初七、周二）放假调休，共8天。1月26日（周日）、2月8日（周六）上班。
三、清明节：4月4日（周五）至6日（周日）放假，共3天。
四、劳动节：5月1日（周四）至5日（周一）放假调休，共5天。4月27日（周日）上班。
五、端午节：5月31日（周六）至6月2日（周一）放假，共3天。
六、国庆节、中秋节：10月1日（周三）至8日（周三）放假调休，共8天。9月28日（周日）、10月11日（周六）上班。
""",
    2026: """国务院办公厅关于2026年部分节假日安排的通知
一、元旦：1月1日（周四）至3日（周六）放假调休，共3天。1月4日（周日）上班。
二、春节：2月15日（农历腊月二十八、周日）至23日（农历正月初七、周一）放假调休，共9天。2月14日（周六）、2月28日（周六）上班。
三、清明节：4月4日（周六）至6日（周一）放假，共3天。
四、劳动节：5月1日（周五）至5日（周二）放假调休，共5天。5月9日（周六）上班。
五、端午节：6月19日（周五）至21日（周日）放假，共3天。
六、中秋节：9月25日（周五）至27日（周日）放假，共3天。
七、国庆节：10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。
""",
}
