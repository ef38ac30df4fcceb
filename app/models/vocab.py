"""Controlled vocabularies of the domain, each value with its Chinese label.

Values are stored as short English strings (stable in the database and the API); the
Chinese label is what people read. DOMAIN.md maps every term.
"""

from enum import StrEnum


class LabelledEnum(StrEnum):
    """A string enum whose members carry a Chinese label."""

    def __new__(cls, value: str, label: str):
        """Build a member from (value, label)."""
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """Map every value to its Chinese label."""
        return {m.value: m.label for m in cls}


class Role(LabelledEnum):
    """What a user is in the organisation; decides their scope (see services.access)."""

    INSPECTOR = "inspector", "三级网格员"
    SUPERVISOR = "supervisor", "二级网格管理员"
    DEPARTMENT_OFFICER = "department_officer", "职能部门人员"
    LEADING_OFFICIAL = "leading_official", "包案领导"
    COMMAND_OFFICE = "command_office", "指挥部办公室"
    ADMIN = "admin", "系统管理员"


# What each level of the grid is called (一级: the city, 二级: a town, 三级: a village).
GRID_LEVEL_NAMES = {1: "一级网格", 2: "二级网格", 3: "三级网格"}


class ListKind(LabelledEnum):
    """Which of the campaign's two lists (摸清底数) a case is on."""

    EXISTING = "existing", "信访问题清单"
    POTENTIAL = "potential", "潜在信访清单"


class InspectionReferral(LabelledEnum):
    """Which inspection referred the case, if any."""

    CENTRAL = "central", "中央环保督察"
    CENTRAL_FOLLOWUP = "central_followup", "中央环保督察回头看"
    PROVINCIAL = "provincial", "省环保督察"
    PROVINCIAL_SPECIAL = "provincial_special", "省专项督察"


class Channel(LabelledEnum):
    """How the matter reached the city, and the groups the rules treat alike.

    A member may carry its group facts as a third item: ``above_level`` (越级访: marks the
    case above-level and costs the grid points), ``referral`` (an inspection referral
    (督察交办): the case gets that referral by default, a handling-report clock and a
    leading official) or ``patrol`` (found by an inspector on patrol: the potential-problem
    list, no petitioner, no contact card). Adding a channel is one line here.
    """

    def __new__(cls, value: str, label: str, facts: dict | None = None):
        """Build a member from (value, label[, facts])."""
        member = str.__new__(cls, value)
        member._value_, member.label = value, label
        facts = facts or {}
        member.above_level = facts.get("above_level", False)
        member.inspection_referral = facts.get("referral")
        member.is_patrol = facts.get("patrol", False)
        return member

    LETTER = "letter", "来信"
    VISIT = "visit", "来访"
    PHONE_12369 = "phone_12369", "12369电话"
    ONLINE = "online", "网上信访"
    TRANSFER_12345 = "transfer_12345", "12345转办"
    CENTRAL_INSPECTION = "central_inspection", "中央环保督察交办", {"referral": InspectionReferral.CENTRAL}
    PROVINCIAL_INSPECTION = "provincial_inspection", "省环保督察交办", {"referral": InspectionReferral.PROVINCIAL}
    SPECIAL_INSPECTION = "special_inspection", "专项督察交办", {"referral": InspectionReferral.PROVINCIAL_SPECIAL}
    ABOVE_LEVEL_BEIJING = "above_level_beijing", "赴京越级访", {"above_level": True}
    ABOVE_LEVEL_PROVINCE = "above_level_province", "到省越级访", {"above_level": True}
    GRID_PATROL = "grid_patrol", "网格巡查发现", {"patrol": True}

    @property
    def is_inspection(self) -> bool:
        """True for a channel that brings inspection referrals."""
        return self.inspection_referral is not None

    @classmethod
    def above_level_channels(cls) -> tuple["Channel", ...]:
        """The above-level channels (赴京/到省越级访), in declaration order."""
        return tuple(c for c in cls if c.above_level)


class LegalTrack(LabelledEnum):
    """The legal channel a matter is handled on, fixed at acceptance."""

    VIOLATION_REPORT = "violation_report", "举报"
    PETITION = "petition", "信访"
    OTHER_CHANNEL = "other_channel", "其他途径"


class Category(LabelledEnum):
    """Pollution type."""

    AIR = "air", "大气"
    NOISE = "noise", "噪声"
    WATER = "water", "水"
    SOLID_WASTE = "solid_waste", "固废"
    SOIL = "soil", "土壤"
    RADIATION = "radiation", "辐射"
    ECOLOGY = "ecology", "生态破坏"


class Subcategory(LabelledEnum):
    """A finer pollution type; the part before the dot names its category."""

    ODOUR = "air.odour", "恶臭/异味"
    SMOKE_DUST = "air.smoke_dust", "烟粉尘"
    INDUSTRIAL_GAS = "air.industrial_gas", "工业废气"
    CATERING_FUMES = "air.catering_fumes", "餐饮油烟"
    NOISE_INDUSTRIAL = "noise.industrial", "工业噪声"
    NOISE_CONSTRUCTION = "noise.construction", "建筑施工噪声"
    NOISE_SOCIAL = "noise.social", "社会生活噪声"
    NOISE_TRAFFIC = "noise.traffic", "交通噪声"


class Sector(LabelledEnum):
    """The kind of source complained about; decides the default department."""

    INDUSTRIAL = "industrial", "工业企业"
    TERTIARY = "tertiary", "三产服务业"
    LIVESTOCK = "livestock", "畜禽水产养殖"
    ROAD_WATERWAY = "road_waterway", "道路航道"
    RIVERSIDE_WHARF = "riverside_wharf", "沿河码头"
    CONSTRUCTION = "construction", "建筑施工"
    OUTDATED_CAPACITY = "outdated_capacity", "落后产能"
    OTHER = "other", "其他"


class Priority(LabelledEnum):
    """How urgent a case is; the city's first-line targets differ by priority."""

    NORMAL = "normal", "一般"
    URGENT = "urgent", "紧急"


class CoordSystem(LabelledEnum):
    """The coordinate system a point was entered in; storage is always WGS-84."""

    WGS84 = "wgs84", "WGS-84（GPS）"
    GCJ02 = "gcj02", "GCJ-02（高德/腾讯）"
    BD09 = "bd09", "BD-09（百度）"


class CaseStatus(LabelledEnum):
    """Where a case stands in its lifecycle (the lifecycle service owns the transitions)."""

    REGISTERED = "registered", "已登记"
    DECLINED = "declined", "不予受理"
    ACCEPTED = "accepted", "已受理"
    ASSIGNED = "assigned", "已交办"
    SIGNED = "signed", "已签收"
    RETURN_REQUESTED = "return_requested", "退单待审"
    HANDLING = "handling", "办理中"
    REPLIED = "replied", "已答复"
    REVIEWED = "reviewed", "已审核"
    FOLLOWED_UP = "followed_up", "已回访"
    CLOSED = "closed", "已销号"
    TRANSFERRED = "transferred", "已转其他途径"


OPEN_STATUSES = frozenset(
    s for s in CaseStatus if s not in {CaseStatus.CLOSED, CaseStatus.DECLINED, CaseStatus.TRANSFERRED}
)


class InspectionKind(LabelledEnum):
    """Why an inspector stood on the site."""

    ONSITE_CHECK = "onsite_check", "现场核查"
    PATROL_DISCOVERY = "patrol_discovery", "巡查发现"


class SourceKind(LabelledEnum):
    """What kind of place a watched source (监管对象) is."""

    FACTORY = "factory", "工业企业"
    LIVESTOCK_FARM = "livestock_farm", "畜禽养殖场"
    AQUACULTURE_FARM = "aquaculture_farm", "水产养殖场"
    RESTAURANT = "restaurant", "餐饮店"
    CONSTRUCTION_SITE = "construction_site", "建筑工地"
    WHARF = "wharf", "沿河码头"
    WORKSHOP = "workshop", "小作坊"
    OTHER = "other", "其他"


class SourceClass(LabelledEnum):
    """The patrol class of a source; the patrol rules give each class its frequency."""

    KEY = "key", "重点监管对象"
    COMPLAINED = "complained", "近期被投诉对象"
    ORDINARY = "ordinary", "一般监管对象"


class CheckinOutcome(LabelledEnum):
    """What the inspector found at a source on patrol."""

    NOTHING_FOUND = "nothing_found", "未发现问题"
    PROBLEM_FOUND = "problem_found", "发现问题"


class PatrolDueState(LabelledEnum):
    """Where a watched source stands against a level's patrol duty today."""

    NOT_REQUIRED = "not_required", "无巡查要求"
    OK = "ok", "按期"
    DUE = "due", "今日到期"
    OVERDUE = "overdue", "已超期"


class LocationSource(LabelledEnum):
    """Where a recorded position came from."""

    GPS = "gps", "卫星定位"
    NETWORK = "network", "网络定位"
    MANUAL = "manual", "地图手选"


class NoPhotoReason(LabelledEnum):
    """Why an on-site check has no photo: the only reasons that excuse one (现场无照片原因)."""

    NOT_ALLOWED = "not_allowed", "现场不允许拍照"
    SAFETY = "safety", "拍照存在安全风险"
    NOTHING_VISIBLE = "nothing_visible", "问题已消失，现场无可拍摄"
    CAMERA_FAILED = "camera_failed", "设备故障无法拍照"


class PhotoOrigin(LabelledEnum):
    """Where a photo came from: taken with the camera at the time, or picked from the gallery."""

    CAMERA = "camera", "现场拍摄"
    GALLERY = "gallery", "相册选取"
    DESK = "desk", "办公端上传"


class RecordedVia(LabelledEnum):
    """Which side recorded an on-site check: the inspector app or the desk."""

    PHONE = "phone", "手机端"
    DESK = "desk", "办公端"


class PhotoStatus(LabelledEnum):
    """Whether a photo announced by a record has arrived."""

    EXPECTED = "expected", "待上传"
    RECEIVED = "received", "已接收"


class ReplyDecision(LabelledEnum):
    """The decision a written reply states (信访工作条例 Art 32)."""

    SUPPORT = "support", "支持"
    EXPLAIN = "explain", "解释说明"
    NOT_SUPPORT = "not_support", "不予支持"


class Satisfaction(LabelledEnum):
    """The petitioner's rating at the follow-up (回访)."""

    SATISFIED = "satisfied", "满意"
    BASICALLY_SATISFIED = "basically_satisfied", "基本满意"
    DISSATISFIED = "dissatisfied", "不满意"


class EnforcementKind(LabelledEnum):
    """Enforcement measures the plan names (严格执法)."""

    DAILY_FINE = "daily_fine", "按日连续处罚"
    SEAL_SEIZE = "seal_seize", "查封扣押"
    LIMIT_STOP_PRODUCTION = "limit_stop_production", "限产停产"
    DETENTION_REFERRAL = "detention_referral", "移送行政拘留"
    POLICE_REFERRAL = "police_referral", "涉嫌犯罪移送公安"
    ORDERED_CLOSURE = "ordered_closure", "责令停业、关闭"
    FINE = "fine", "罚款"


class NoticeKind(LabelledEnum):
    """Written notices to the petitioner."""

    ACCEPTANCE = "acceptance", "受理告知"
    DECLINE = "decline", "不予受理告知"
    TRANSFER = "transfer", "转其他途径告知"
    EXTENSION = "extension", "延期告知"


class Stage(LabelledEnum):
    """A clock the deadline engine runs on a case."""

    ACCEPT = "accept", "受理"
    NOTICE = "notice", "告知"
    SIGN = "sign", "签收"
    RETURN_WINDOW = "return_window", "退单期限"
    ONSITE = "onsite", "首次现场核查"
    REPORT = "report", "督察件办理情况报告"
    HANDLE = "handle", "办结"
    FOLLOW_UP = "follow_up", "回访"
    # A long-unresolved case (久拖不解) is followed up every few days while it stays open.
    REVISIT = "revisit", "定期回访"


class PeriodUnit(LabelledEnum):
    """How a deadline rule's amount is counted (see services.cases.workcalendar for the convention)."""

    HOURS = "hours", "小时"
    CALENDAR_DAYS = "calendar_days", "日"
    WORKING_DAYS = "working_days", "工作日"


class DeadlineState(LabelledEnum):
    """How a case's nearest deadline stands: the colour and the words of the desk, the phone and
    the wall. Grey (closed) is every case no longer open, however it ended."""

    GREEN = "green", "期限内"
    YELLOW = "yellow", "临期"
    RED = "red", "已超期"
    CLOSED = "closed", "已销号"
    NONE = "none", "无期限"


class WallFlag(LabelledEnum):
    """The marks the map wall filters cases by and draws as shapes."""

    ABOVE_LEVEL = "above_level", "越级访"
    INSPECTION = "inspection", "督察交办"
    LEADER = "leader", "领导包案"
    REPEAT = "repeat", "重复访"


class ReceptionKind(LabelledEnum):
    """Which kind of reception (接访)."""

    PUBLIC = "public", "领导公开接访"
    LARGE = "large", "大接访"


class CheckReason(LabelledEnum):
    """Why a special enforcement check (专项督查) was planned."""

    REPEAT = "repeat", "重复访"
    ABOVE_LEVEL = "above_level", "越级访"
    DISSATISFIED = "dissatisfied", "不满意件"
    SUPERIOR_ASSIGNED = "superior_assigned", "上级交办未完成件"
    KEY_TOWN = "key_town", "重点镇（街道）"


class CheckOutcome(LabelledEnum):
    """What a special enforcement check found."""

    RECTIFIED = "rectified", "已整改到位"
    IN_PROGRESS = "in_progress", "正在整改"
    NOT_RECTIFIED = "not_rectified", "未整改"


class FailureKind(LabelledEnum):
    """What a person failed to do (问责情形)."""

    FINE_NOT_IMPOSED = "fine_not_imposed", "应罚未罚"
    FALSIFICATION = "falsification", "弄虚作假"
    BUCK_PASSING = "buck_passing", "推诿扯皮"
    INACTION = "inaction", "不作为、慢作为"


# What each administration action (管理操作日志) is called on the audit page.
AUDIT_ACTION_LABELS = {
    "user.create": "新建用户", "user.update": "修改用户", "user.deactivate": "停用用户", "user.activate": "启用用户",
    "user.delete": "删除用户", "user.reset_password": "重置密码", "user.force_logout": "强制下线",
    "user.unlock": "解除登录锁定", "user.import": "批量导入用户",
    "grid.import": "导入网格", "department.create": "新建部门", "department.update": "修改部门",
    "route.update": "修改分工路由", "setting.update": "修改系统参数",
    "deadline_rule.create": "新增时限规则", "deadline_rule.update": "修改时限规则",
    "calendar_day.set": "设置工作日历", "calendar_day.delete": "恢复工作日历",
    "api_key.create": "新建接口密钥", "api_key.revoke": "吊销接口密钥",
    "privacy.purge": "个人信息匿名化", "privacy.export": "导出信访人信息",
    "source.create": "新建监管对象", "source.update": "修改监管对象", "source.import": "导入监管对象台账",
    "source.link_case": "监管对象关联案件", "source.unlink_case": "监管对象取消关联案件",
    "campaign.create": "新建专项行动", "campaign_phase.update": "修改行动阶段",
    "submission_requirement.update": "修改报送要求",
    "basemap.import": "导入底图", "basemap.delete": "删除底图图层",
    "robot.create": "新增群机器人", "robot.update": "停用/启用群机器人", "notify_pref.update": "修改角色短信方式",
    # Calendar for any year (issue 18).
    "calendar_year.import": "导入节假日安排",
    "volume_baseline.set": "录入历史信访量",
}


class BaseLayer(LabelledEnum):
    """A layer of the city's own base map (底图), drawn quietly under the cases on the wall."""

    ROAD = "road", "道路"
    WATER = "water", "水系"
    PLACE = "place", "地名"


class NotificationKind(LabelledEnum):
    """What a notification (消息) tells someone: each one gives them work. A third item marks
    the urgent kinds, which are sent even in quiet hours."""

    def __new__(cls, value: str, label: str, urgent: bool = False):
        """Build a member from (value, label[, urgent])."""
        member = str.__new__(cls, value)
        member._value_, member.label, member.urgent = value, label, urgent
        return member

    NEW_CASE = "new_case", "新案件"
    ASSIGNED = "assigned", "交办"
    FIELD_TASK = "field_task", "现场核查任务"
    RETURN_REQUESTED = "return_requested", "退单待审批"
    RETURN_DECIDED = "return_decided", "退单审批结果"
    REVIEW_REDO = "review_redo", "退回重办"
    EXTENSION_REQUESTED = "extension_requested", "延期待审批"
    EXTENSION_DECIDED = "extension_decided", "延期审批结果"
    REVIEW_REQUESTED = "review_requested", "答复待审核"
    REMINDER = "reminder", "催办"
    ESCALATION = "escalation", "督办", True
    EARLY_WARNING = "early_warning", "预警", True


class NotifyChannel(LabelledEnum):
    """Where a notification goes besides the in-app list (站内消息)."""

    SMS = "sms", "短信"
    WECOM = "wecom", "企业微信群机器人"
    DINGTALK = "dingtalk", "钉钉群机器人"


class SmsMode(LabelledEnum):
    """How a person wants a kind of notification by SMS."""

    IMMEDIATE = "immediate", "立即发送"
    DIGEST = "digest", "每日汇总"
    OFF = "off", "不发短信"


class DeliveryStatus(LabelledEnum):
    """Where one outgoing message stands."""

    PENDING = "pending", "待发送"
    SENDING = "sending", "发送中"
    SENT = "sent", "已发送"
    FAILED = "failed", "发送失败"
    DIGEST = "digest", "待每日汇总"
    DIGESTED = "digested", "已并入汇总"
class LongUnresolvedReason(LabelledEnum):
    """Why a case is on the long-unresolved list (久拖不解); the thresholds are settings."""

    OPEN_LONG = "open_long", "立案后长期未办结"
    OVERDUE = "overdue", "超过办理期限"
    REOPENED = "reopened", "多次重新办理"
    ABOVE_LEVEL = "above_level", "多次越级访"


class ExposureStatus(LabelledEnum):
    """Where a media exposure (媒体曝光) stands: proposed, approved and public, rejected, or withdrawn."""

    PROPOSED = "proposed", "待审批"
    APPROVED = "approved", "已曝光"
    REJECTED = "rejected", "未批准"
    WITHDRAWN = "withdrawn", "已撤回"
# ---- background exports (the task queue)
class ExportStatus(LabelledEnum):
    """Where a background export stands."""

    QUEUED = "queued", "正在生成"
    DONE = "done", "已生成"
    FAILED = "failed", "生成失败"
# --- Work queue (h-lists) ------------------------------------------------------------------


class QueueTab(LabelledEnum):
    """The tabs of the desk's work queue (办案台), in the order shown; services.cases.queries
    says which cases each holds."""

    TO_SIGN = "to_sign", "待签收"
    TO_HANDLE = "to_handle", "待办理"
    TO_DECIDE = "to_decide", "待审批"
    DUE_SOON = "due_soon", "即将超期"
    OVERDUE = "overdue", "已超期"
    ASSIGNED_BY_ME = "assigned_by_me", "我交办的"
    ALL = "all", "全部"
