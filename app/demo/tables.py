"""The demo city's fixed tables: its size and names, the mix of its cases, the chain of steps.

Everything here is data the generator draws from; nothing draws or writes. The shares and
weights follow DOMAIN.md ("Categories"), the chain follows services.cases.lifecycle. Lists
of vocabulary members (CHANNELS, STATUSES, ...) fix the order in which the generator numbers
them, so the same seed draws the same values.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from math import cos, radians

import numpy as np

from app.models.vocab import CaseStatus, Category, Channel, Sector, Subcategory

CITY_CODE = "HX"
CITY_NAME = "海兴市"
COMMAND_UNIT = "市打好污染防治攻坚战指挥部办公室"
CENTRE = np.array([120.57, 32.39])
# Half of 50 km east-west and 40 km north-south, in degrees at this latitude.
HALF_SIZE = np.array([25.0 / (111.32 * cos(radians(32.39))), 20.0 / 110.57])
TOWN_COUNT = 14
VILLAGES_PER_TOWN = 21
HOTSPOT_COUNT = 8
LEADER_COUNT = 3
# Above this many cases only the "registered" event is written per case: a full history
# for a million cases would be ~7 million hashed rows and dominate the run.
FULL_TIMELINE_MAX = 20_000
# Cases are received from this day on (or from 150 days back, if that is earlier, so
# open cases always have room for their clocks).
SPREAD_FROM = datetime(2026, 1, 1, tzinfo=UTC)

STREET_NAMES = ("城东街道", "城西街道", "城北街道", "城南街道")
TOWN_NAMES = ("长江镇", "新桥镇", "柳河镇", "白塔镇", "双河镇", "金沙镇", "杨湾镇", "石桥镇", "桃园镇", "顾庄镇")
_VILLAGE_FIRST = "东西南北新前后大小高双三五红永长兴安丰河"
_VILLAGE_SECOND = "庄桥湖圩港园湾墩店集沟埭垛坝林塘舍楼"
VILLAGE_ROOTS = tuple(a + b for a in _VILLAGE_FIRST for b in _VILLAGE_SECOND if a != b)
COMMUNITY_ROOTS = (
    "人民", "文峰", "振兴", "锦绣", "和平", "花园", "福寿", "龙泉", "春晖", "阳光", "幸福", "朝阳",
    "东园", "西园", "南苑", "北苑", "金桥", "银杏", "桂花", "玉兰", "海棠", "紫薇", "学府", "健康",
    "安定", "通江", "中心", "新城", "滨河", "望江",
)  # fmt: skip

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁"
    "任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严武戴孔汤"
)
GIVEN_CHARS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建国文红玲飞鹏辉斌宇浩凯晨欣怡婷雪琳梅兰峰健波宁俊亮"
    "海燕萍丹云龙志春秋月新永成德荣祥瑞金玉佳慧颖琪子梓涵睿博轩"
)
MOBILE_PREFIXES = tuple(str(p) for p in [*range(130, 140), 150, 151, 152, 153, 155, 156, 157, 158, 159, 177,
                                          *range(180, 190), 198, 199])  # fmt: skip
ID_REGIONS = ("320681", "320682", "320684", "320685", "320623")
ID_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2])
ID_CHECK_CHARS = "10X98765432"

ROADS = (
    "人民路", "解放路", "长江路", "海阳路", "宁海路", "兴港路", "建设路", "中山路", "和平路", "工业大道",
    "滨江大道", "通港路", "新民路", "文化路", "迎春路", "花园路", "育才路", "东环路", "西环路", "益民路",
    "跃进路", "光明路", "友谊路", "开发大道",
)  # fmt: skip
RIVERS = ("东横河", "西塘河", "北干河", "南官河", "新通河", "龙游河", "清水河", "永安河", "长沟河", "九里港")
TRANSFER_TARGETS = ("市人民法院（民事诉讼途径）", "市市场监督管理局", "市住房和城乡建设局", "市自然资源和规划局",
                    "市卫生健康委员会", "市人力资源和社会保障局")  # fmt: skip
BRANDS = (
    "宏达", "金鑫", "永兴", "华通", "恒源", "瑞丰", "天成", "鑫源", "通达", "顺发", "长荣", "新亚",
    "富民", "盛泰", "东方", "利民", "江海", "兴业", "裕丰", "华宇",
)  # fmt: skip
SECTOR_SOURCES = {
    Sector.INDUSTRIAL: ("化工厂", "印染厂", "塑料制品厂", "金属表面处理厂", "家具厂", "电镀厂", "纺织厂",
                        "饲料厂", "橡胶厂", "铸造厂"),
    Sector.TERTIARY: ("饭店", "烧烤店", "大酒店", "KTV", "洗浴中心", "汽修店", "农贸市场", "夜宵排档"),
    Sector.LIVESTOCK: ("生猪养殖场", "蛋鸡养殖场", "肉鸭养殖场", "水产养殖塘", "奶牛养殖场"),
    Sector.ROAD_WATERWAY: ("运输公司车队", "渣土运输车队", "航道疏浚工程", "船运公司"),
    Sector.RIVERSIDE_WHARF: ("砂石码头", "货运码头", "散货码头", "船舶修造厂"),
    Sector.CONSTRUCTION: ("住宅项目工地", "道路改造工地", "商混搅拌站", "拆迁工地", "管网施工工地"),
    Sector.OUTDATED_CAPACITY: ("小化工作坊", "燃煤锅炉房", "小冶炼厂", "土法炼油点"),
    Sector.OTHER: ("垃圾中转站", "污水处理厂", "固废堆场", "废品收购站"),
}  # fmt: skip


@dataclass(frozen=True)
class CaseKind:
    """One kind of complaint: its pollution type, typical sources and how people word it."""

    category: Category
    subcategory: Subcategory | None
    share: float  # share within its category
    sectors: dict[Sector, float]
    titles: tuple[str, ...]
    descriptions: tuple[str, ...]
    sources: tuple[str, ...] = ()  # named sources instead of "{brand}{sector source}"


# 12369 hotline shares (March 2019). Soil has no published share; it gets radiation's.
CATEGORY_SHARES = {
    Category.AIR: 52.3,
    Category.NOISE: 38.0,
    Category.WATER: 16.3,
    Category.SOLID_WASTE: 7.2,
    Category.ECOLOGY: 2.4,
    Category.RADIATION: 0.8,
    Category.SOIL: 0.8,
}

KINDS = (
    CaseKind(
        Category.AIR, Subcategory.ODOUR, 0.35,
        {Sector.INDUSTRIAL: 45, Sector.LIVESTOCK: 30, Sector.OTHER: 15, Sector.TERTIARY: 10},
        ("{village}{source}排放刺鼻异味", "{source}异味扰民", "{road}附近夜间异味明显"),
        ("{village}{source}夜间排放刺鼻气味，影响周边居民休息，关着窗也能闻到。",
         "群众反映{town}{village}{source}散发恶臭，傍晚和阴雨天尤为严重，已持续多日。",
         "{road}一带每天凌晨都有一股刺鼻的味道，怀疑来自{source}，希望尽快查处。"),
    ),
    CaseKind(
        Category.AIR, Subcategory.SMOKE_DUST, 0.25,
        {Sector.CONSTRUCTION: 45, Sector.INDUSTRIAL: 30, Sector.ROAD_WATERWAY: 15, Sector.RIVERSIDE_WHARF: 10},
        ("{source}扬尘污染", "{road}{source}粉尘飞扬"),
        ("{road}{source}未落实围挡、喷淋等防尘措施，车辆带泥上路，扬尘严重。",
         "{village}{source}露天堆放物料未覆盖，大风天粉尘飘进居民家中。"),
    ),
    CaseKind(
        Category.AIR, Subcategory.INDUSTRIAL_GAS, 0.22,
        {Sector.INDUSTRIAL: 80, Sector.OUTDATED_CAPACITY: 20},
        ("{source}废气直排", "{village}{source}烟囱冒黄烟"),
        ("{village}{source}废气未经处理直接排放，夜间尤为明显，周边群众反映头晕、咽喉不适。",
         "{source}烟囱经常冒黄烟，附近菜地叶片发黄，怀疑废气处理设施没有运行。"),
    ),
    CaseKind(
        Category.AIR, Subcategory.CATERING_FUMES, 0.18,
        {Sector.TERTIARY: 100},
        ("{source}油烟扰民", "{road}{source}油烟直排"),
        ("{town}{road}{source}油烟未经净化直排，居民楼道内油烟味浓重，无法开窗。",
         "{village}{source}排烟管道正对居民窗户，每天中午和晚上油烟很大。"),
    ),
    CaseKind(
        Category.NOISE, Subcategory.NOISE_INDUSTRIAL, 0.30,
        {Sector.INDUSTRIAL: 85, Sector.RIVERSIDE_WHARF: 15},
        ("{source}夜间生产噪声扰民", "{village}{source}机器噪声大"),
        ("{village}{source}夜间加班生产，机器轰鸣声很大，周边居民无法入睡。",
         "{source}风机和冲床噪声持续到凌晨，多次反映仍未解决。"),
    ),
    CaseKind(
        Category.NOISE, Subcategory.NOISE_CONSTRUCTION, 0.40,
        {Sector.CONSTRUCTION: 100},
        ("{source}夜间违规施工", "{road}{source}施工噪声扰民"),
        ("{road}{source}晚上十点后仍在施工，打桩声音很大，影响居民休息。",
         "{village}{source}夜间浇筑混凝土，搅拌车进出频繁，噪声严重扰民。"),
    ),
    CaseKind(
        Category.NOISE, Subcategory.NOISE_SOCIAL, 0.20,
        {Sector.TERTIARY: 90, Sector.OTHER: 10},
        ("{source}噪声扰民", "{road}{source}音响声音过大"),
        ("{road}{source}音响声音过大，营业至凌晨，严重影响附近居民睡眠。",
         "{village}{source}门口用高音喇叭招揽顾客，从早到晚不停。"),
    ),
    CaseKind(
        Category.NOISE, Subcategory.NOISE_TRAFFIC, 0.10,
        {Sector.ROAD_WATERWAY: 80, Sector.RIVERSIDE_WHARF: 20},
        ("{road}重型货车噪声扰民", "{source}车辆夜间鸣笛"),
        ("{road}夜间重型货车往来频繁，{source}车辆鸣笛、刹车声很大，沿线居民无法休息。",
         "{village}段道路破损，{source}车辆经过时震动和噪声明显。"),
    ),
    CaseKind(
        Category.WATER, None, 1.0,
        {Sector.INDUSTRIAL: 45, Sector.LIVESTOCK: 30, Sector.TERTIARY: 10, Sector.OTHER: 15},
        ("{source}向{river}排放污水", "{river}{village}段河水发黑发臭"),
        ("{village}{source}通过暗管向{river}排放污水，河水发黑发臭，出现死鱼。",
         "{river}{village}段水面漂浮油污，怀疑{source}偷排废水。"),
    ),
    CaseKind(
        Category.SOLID_WASTE, None, 1.0,
        {Sector.INDUSTRIAL: 40, Sector.CONSTRUCTION: 30, Sector.OTHER: 30},
        ("{source}乱倒固体废物", "{river}岸边堆放垃圾"),
        ("{village}附近有人在{river}岸边倾倒{source}的废料和建筑垃圾，无人清理。",
         "{source}将废渣堆放在{road}路边空地，未做防渗防雨措施。"),
    ),
    CaseKind(
        Category.SOIL, None, 1.0,
        {Sector.INDUSTRIAL: 70, Sector.OTHER: 30},
        ("{source}厂区土壤污染", "{village}农田疑受污染"),
        ("{village}{source}停产后厂区遗留废料渗漏，周边农田作物发黄。",
         "群众反映{source}将废液倒入厂区土坑，担心污染土壤和地下水。"),
    ),
    CaseKind(
        Category.RADIATION, None, 1.0,
        {Sector.OTHER: 70, Sector.INDUSTRIAL: 30},
        ("{village}{source}辐射担忧", "{road}附近新建{source}"),
        ("群众反映{village}{road}附近新建{source}离住宅过近，担心电磁辐射影响健康。",
         "{village}{source}周边居民担心辐射安全，要求公开检测结果。"),
        ("通信基站", "变电站", "无损检测公司", "医院放射科"),
    ),
    CaseKind(
        Category.ECOLOGY, None, 1.0,
        {Sector.OTHER: 50, Sector.RIVERSIDE_WHARF: 30, Sector.ROAD_WATERWAY: 20},
        ("{river}{source}非法作业", "{village}湿地被填埋"),
        ("{river}{village}段有{source}夜间非法作业，河岸坍塌。",
         "{village}附近{source}私自填埋湿地、砍伐护岸林，破坏生态。"),
        ("采砂船", "非法采砂点", "私挖鱼塘", "填埋工地"),
    ),
)  # fmt: skip

CHANNELS = list(Channel)
STATUSES = list(CaseStatus)
SECTORS = list(Sector)
CATEGORIES = list(Category)
CHANNEL_WEIGHTS = {
    Channel.LETTER: 6, Channel.VISIT: 7, Channel.PHONE_12369: 30, Channel.ONLINE: 12, Channel.TRANSFER_12345: 17,
    Channel.CENTRAL_INSPECTION: 1.2, Channel.PROVINCIAL_INSPECTION: 1.5, Channel.SPECIAL_INSPECTION: 1.3,
    Channel.ABOVE_LEVEL_BEIJING: 0.8, Channel.ABOVE_LEVEL_PROVINCE: 1.7, Channel.GRID_PATROL: 21.5,
}  # fmt: skip
# A channel added to the vocabulary after these weights were set gets this small weight, so
# ``flask demo seed`` keeps working and the demo shows a few cases of it until it gets its own.
DEFAULT_CHANNEL_WEIGHT = 1.0
STATUS_WEIGHTS = {
    CaseStatus.REGISTERED: 4, CaseStatus.DECLINED: 3, CaseStatus.ACCEPTED: 3, CaseStatus.ASSIGNED: 5,
    CaseStatus.SIGNED: 4, CaseStatus.RETURN_REQUESTED: 1.5, CaseStatus.HANDLING: 12, CaseStatus.REPLIED: 4,
    CaseStatus.REVIEWED: 3, CaseStatus.FOLLOWED_UP: 3, CaseStatus.CLOSED: 54, CaseStatus.TRANSFERRED: 3.5,
}  # fmt: skip
# Channel groups come from the vocabulary, so a channel added there joins its group:
# above-level petitions (赴京, 到省, ...) and inspection referrals.
ABOVE_LEVEL_CHANNELS = tuple(Channel.above_level_channels())
INSPECTION_CHANNELS = tuple(c for c in Channel if c.is_inspection)
# Which channels the demo treats as petitions proper (信访) at acceptance, and which may repeat
# an earlier case: the demo's choice, as the desk chooses the legal track case by case.
PETITION_CHANNELS = (Channel.LETTER, Channel.VISIT, Channel.ONLINE, *ABOVE_LEVEL_CHANNELS)
REPEATABLE_CHANNELS = (*PETITION_CHANNELS, Channel.PHONE_12369, Channel.TRANSFER_12345)

# The lifecycle as the chain of steps services.lifecycle takes, in order: (step name, who
# takes it, hours after the step before: low, high). A case has taken the first ``depth``.
CHAIN = (
    ("accept", "desk", 0.2, 24),
    ("assign", "desk", 0.2, 6),
    ("sign", "handler", 0.1, 12),
    ("record_onsite", "field", 0.5, 20),
    ("plan", "handler", 0.5, 48),
    ("reply", "handler", 48, 600),
    ("review_pass", "desk", 2, 72),
    ("follow_up", "desk", 1, 48),
    ("close", "desk", 2, 72),
)
ACCEPT, ASSIGN, SIGN, ONSITE, PLAN, REPLY, REVIEW, FOLLOW_UP, CLOSE = range(len(CHAIN))
# Where each status sits on the chain.
DEPTH = {
    CaseStatus.REGISTERED: 0, CaseStatus.DECLINED: 0, CaseStatus.TRANSFERRED: 0, CaseStatus.ACCEPTED: 1,
    CaseStatus.ASSIGNED: 2, CaseStatus.RETURN_REQUESTED: 2, CaseStatus.SIGNED: 3, CaseStatus.HANDLING: 5,
    CaseStatus.REPLIED: 6, CaseStatus.REVIEWED: 7, CaseStatus.FOLLOWED_UP: 8, CaseStatus.CLOSED: 9,
}  # fmt: skip
# Statuses reached by a step off the chain: (step name, who, hours after the last step: low, high).
SIDE_STEPS = {
    CaseStatus.DECLINED: ("decline", "desk", 2, 72),
    CaseStatus.TRANSFERRED: ("transfer", "desk", 0.2, 48),
    CaseStatus.RETURN_REQUESTED: ("request_return", "handler", 0.5, 8),
}
# A quarter of the cases in handling were reopened by a dissatisfied follow-up (~3 % of all).
REOPENED_SHARE_OF_HANDLING = 0.25
PLAN_MEASURES = "责令当事单位限期整改、落实污染防治措施；整改期间加密巡查，整改完成后组织复查并答复信访人。"
REPLY_FACTS = "经现场核查，反映情况基本属实。已责令当事单位限期整改，整改情况经复查已落实到位。"
# Per category: the problem as a reply names it, and the law it cites.
PROBLEMS = {
    Category.AIR: ("大气污染", "《中华人民共和国大气污染防治法》"),
    Category.NOISE: ("噪声污染", "《中华人民共和国噪声污染防治法》"),
    Category.WATER: ("水污染", "《中华人民共和国水污染防治法》"),
    Category.SOLID_WASTE: ("固体废物污染", "《中华人民共和国固体废物污染环境防治法》"),
    Category.SOIL: ("土壤污染", "《中华人民共和国土壤污染防治法》"),
    Category.RADIATION: ("电磁辐射", "《中华人民共和国放射性污染防治法》"),
    Category.ECOLOGY: ("生态破坏", "《中华人民共和国长江保护法》"),
}
STEP_NOTES = {
    "record_onsite": "已到现场核查，情况属实，当场责令整改。",
    "plan": "已制定一案一策。",
}
# Share of open cases on time, in their last quarter (yellow) and overdue (red), and the
# fraction of their clock used that each colour draws from.
COLOUR_SHARES = (0.75, 0.15, 0.10)
YELLOW_USED = (0.76, 0.97)
RED_USED = (1.02, 1.5)


def index_of(values: list, members) -> np.ndarray:
    """Positions of ``members`` in one of the lists above (for np.isin on index columns)."""
    return np.array([values.index(m) for m in members], dtype=np.int64)
