"""A deterministic synthetic demo city (演示城市) for ``flask demo seed``.

Everything comes from one seed: the city boundary, 14 towns and about 300 villages that
nest exactly (Voronoi cells clipped to their parent), a user of every role, and N cases
whose mix follows DOMAIN.md ("Categories"). The same seed gives the same grids, names,
numbers, texts and locations; times are laid out backwards from the moment of seeding so
open cases are due around "now" whenever the demo is built.

The cases look as if services.lifecycle had handled them: their timeline events, deadline
clocks (case_clocks) and handling records (plans, replies, follow-ups, return requests) are
what its steps would have written, so every next step works on a demo case.

Speed matters (a million cases in minutes): every column is drawn with numpy in one
vectorised call; rows go in batches straight to the driver (an executemany of the statement
SQLAlchemy compiles on SQLite, COPY on PostgreSQL) with indexes rebuilt once at the end;
primary keys are assigned here so links need no round-trip; the timeline is hashed in bulk.
"""

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from math import cos, radians

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, mapping
from sqlalchemy import func, insert, select
from werkzeug.security import generate_password_hash

from app.demo import bulk_load
from app.demo import sources as demo_sources
from app.extensions import db
from app.models import Case, CaseClock, CaseEvent, CasePlan, CaseReply, CaseReturn, FollowUp, Grid, SectorRoute, User
from app.models.types import SRID, utcnow
from app.models.vocab import (
    CaseStatus,
    Category,
    Channel,
    CoordSystem,
    InspectionReferral,
    LegalTrack,
    ListKind,
    Priority,
    Role,
    Sector,
    Stage,
    Subcategory,
)
from app.services.cases.departments import ensure_default_departments
from app.services.cases.numbering import format_case_number, reserve_case_numbers
from app.services.cases.timeline import GENESIS_HASH, event_hash
from app.services.geo.grid_import import import_grids
from app.services.geo.grid_locator import GridLocator, get_locator
from app.services.wall.cells import rebuild_wall_cells

DEMO_PASSWORD = "firstline2026"

# (username, role, what they see): the README's "Demo logins" table quotes this list.
DEMO_LOGINS = [
    ("admin", f"{Role.ADMIN.label} admin", "every case, petitioner data masked"),
    ("command", f"{Role.COMMAND_OFFICE.label} command office", "every case, petitioner data in full"),
    ("town01 … town14", "二级网格 town supervisor", "cases in their town"),
    (
        "g01001a, g01001b …",
        "三级网格员 inspector (two per village: town 01, village 001)",
        "cases in their village, name and phone masked",
    ),
    (
        "dept_env, dept_urban, dept_agri, dept_transport, dept_port, dept_ndrc, dept_police",
        "职能部门 department officer",
        "cases routed to their department",
    ),
    ("leader1 … leader3", f"{Role.LEADING_OFFICIAL.label} leading official", "the cases they lead"),
]

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
BATCH_SIZE = 10_000
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
STATUS_WEIGHTS = {
    CaseStatus.REGISTERED: 4, CaseStatus.DECLINED: 3, CaseStatus.ACCEPTED: 3, CaseStatus.ASSIGNED: 5,
    CaseStatus.SIGNED: 4, CaseStatus.RETURN_REQUESTED: 1.5, CaseStatus.HANDLING: 12, CaseStatus.REPLIED: 4,
    CaseStatus.REVIEWED: 3, CaseStatus.FOLLOWED_UP: 3, CaseStatus.CLOSED: 54, CaseStatus.TRANSFERRED: 3.5,
}  # fmt: skip
PETITION_CHANNELS = (Channel.LETTER, Channel.VISIT, Channel.ONLINE, Channel.ABOVE_LEVEL_BEIJING,
                     Channel.ABOVE_LEVEL_PROVINCE)  # fmt: skip
ABOVE_LEVEL_CHANNELS = (Channel.ABOVE_LEVEL_BEIJING, Channel.ABOVE_LEVEL_PROVINCE)
INSPECTION_CHANNELS = (Channel.CENTRAL_INSPECTION, Channel.PROVINCIAL_INSPECTION, Channel.SPECIAL_INSPECTION)
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
# Where each status sits on the chain, and the state it was in before each step.
DEPTH = {
    CaseStatus.REGISTERED: 0, CaseStatus.DECLINED: 0, CaseStatus.TRANSFERRED: 0, CaseStatus.ACCEPTED: 1,
    CaseStatus.ASSIGNED: 2, CaseStatus.RETURN_REQUESTED: 2, CaseStatus.SIGNED: 3, CaseStatus.HANDLING: 5,
    CaseStatus.REPLIED: 6, CaseStatus.REVIEWED: 7, CaseStatus.FOLLOWED_UP: 8, CaseStatus.CLOSED: 9,
}  # fmt: skip
STATE_BEFORE = ("registered", "accepted", "assigned", "signed", "signed", "handling", "replied", "reviewed",
                "followed_up")  # fmt: skip
# Statuses reached by a step off the chain: (step name, who, hours after the last step: low, high).
SIDE_STEPS = {
    CaseStatus.DECLINED: ("decline", "desk", 2, 72),
    CaseStatus.TRANSFERRED: ("transfer", "desk", 0.2, 48),
    CaseStatus.RETURN_REQUESTED: ("request_return", "handler", 0.5, 8),
}
# A quarter of the cases in handling were reopened by a dissatisfied follow-up (~3 % of all).
REOPENED_SHARE_OF_HANDLING = 0.25
# Default time limits (services.deadline_defaults), in hours, as the demo's clocks use them:
# acceptance 15 days, signing and the first on-site visit 24 h each, the inspection report
# 7 days, handling 30 days for reports of violations and 60 for petitions, follow-up 1 day.
# The return window of 5 working days is taken as a calendar week.
ACCEPT_HOURS, SIGN_HOURS, ONSITE_HOURS, REPORT_HOURS, FOLLOW_UP_HOURS = 15 * 24, 24, 24, 7 * 24, 24
HANDLE_HOURS = {LegalTrack.VIOLATION_REPORT: 30 * 24, LegalTrack.PETITION: 60 * 24}
NOTICE_HOURS, RETURN_HOURS = 15 * 24, 7 * 24
CLOCK_STAGES = (Stage.ACCEPT, Stage.NOTICE, Stage.REPORT, Stage.SIGN, Stage.RETURN_WINDOW, Stage.ONSITE,
                Stage.HANDLE, Stage.FOLLOW_UP)  # fmt: skip
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

EVENT_COLUMNS = ("id", "case_id", "seq", "kind", "actor_id", "at", "note", "data", "prev_hash", "hash")


# ---------------------------------------------------------------- geography


@dataclass
class GridSpec:
    """One grid to import: what a GeoJSON feature of the city's own file would carry."""

    code: str
    name: str
    level: int
    parent_code: str | None
    geom: Polygon | MultiPolygon


@dataclass
class Geography:
    """The demo city's grids and its industrial parks (where complaints cluster)."""

    city: GridSpec
    towns: list[GridSpec]
    villages: list[GridSpec]
    hotspots: np.ndarray  # (HOTSPOT_COUNT, 2) lon, lat

    @property
    def grids(self) -> list[GridSpec]:
        """Every grid, parents before children, as the importer wants them."""
        return [self.city, *self.towns, *self.villages]


def build_geography(rng: np.random.Generator) -> Geography:
    """The city, its towns and villages (nested exactly) and its hotspots, from one stream."""
    outline = city_outline(rng)
    city = GridSpec(CITY_CODE, CITY_NAME, 1, None, outline)
    towns = _towns(rng, outline)
    villages = [village for town in towns for village in _villages(rng, town)]
    hotspots = _points_inside(rng, outline.buffer(-0.03), HOTSPOT_COUNT)
    return Geography(city, towns, villages, hotspots)


def city_outline(rng: np.random.Generator) -> Polygon:
    """An irregular boundary of about 50 km x 40 km: an ellipse whose radius wobbles with a
    few random harmonics, so it looks surveyed rather than drawn with a compass.

    The radius never falls below ~0.8, so the outline is star-shaped around the centre
    (every ray from the centre crosses it once), which ``_points_beyond`` relies on.
    """
    angles = np.linspace(0, 2 * np.pi, 96, endpoint=False)
    radius = 1 + rng.normal(0, 0.01, angles.size)
    for harmonic in (2, 3, 5, 7):
        amplitude = rng.uniform(0.02, 0.06) * 2 / harmonic
        radius += amplitude * np.sin(harmonic * angles + rng.uniform(0, 2 * np.pi))
    xy = CENTRE + np.column_stack([np.cos(angles), np.sin(angles)]) * radius[:, None] * HALF_SIZE
    return Polygon(xy)


def _points_inside(rng: np.random.Generator, region, count: int) -> np.ndarray:
    """``count`` uniform random points inside a region, by rejection from its bounding box."""
    minx, miny, maxx, maxy = region.bounds
    found = np.empty((0, 2))
    while len(found) < count:
        xy = rng.uniform((minx, miny), (maxx, maxy), size=(2 * count + 16, 2))
        found = np.vstack([found, xy[shapely.contains_xy(region, xy[:, 0], xy[:, 1])]])
    return found[:count]


def _polygonal(geom) -> MultiPolygon:
    """Only the polygon parts of a clipping result (clipping can leave stray lines or points)."""
    parts = [p for p in shapely.get_parts(geom) if isinstance(p, Polygon) and not p.is_empty]
    nested = [p for g in shapely.get_parts(geom) if isinstance(g, MultiPolygon) for p in g.geoms]
    return MultiPolygon(parts + nested)


def _cells(seeds: np.ndarray, region) -> list[MultiPolygon]:
    """Voronoi cells of the seeds clipped to the region, in seed order.

    Together they cover the region with no gap or overlap, and each lies inside it, which
    is exactly how a town's villages must nest.
    """
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    return [_polygonal(cell.intersection(region)) for cell in shapely.get_parts(diagram)]


def _relaxed_seeds(rng: np.random.Generator, region, count: int, rounds: int = 2) -> np.ndarray:
    """Seeds spread evenly over the region (Lloyd relaxation), so cells have similar sizes as
    real administrative areas do, instead of the slivers that raw random seeds give."""
    seeds = _points_inside(rng, region, count)
    for _ in range(rounds):
        centres = []
        for cell in _cells(seeds, region):
            centre = cell.centroid
            centres.append(centre if cell.contains(centre) else cell.point_on_surface())
        seeds = shapely.get_coordinates(centres)
    return seeds


def _towns(rng: np.random.Generator, outline: Polygon) -> list[GridSpec]:
    """The 14 level-2 grids: four street offices round the centre, then towns clockwise."""
    seeds = _relaxed_seeds(rng, outline, TOWN_COUNT)
    cells = _cells(seeds, outline)
    return [
        GridSpec(f"{CITY_CODE}{number:02d}", name, 2, CITY_CODE, cells[index])
        for number, (index, name) in enumerate(_town_names(seeds), start=1)
    ]


def _town_names(seeds: np.ndarray) -> list[tuple[int, str]]:
    """Pair seeds with names: the four nearest the centre are the street offices named by
    their side (城东/城西/城北/城南), the rest are towns named clockwise from north."""
    dx, dy = ((seeds - CENTRE) / HALF_SIZE).T
    near = list(np.argsort(np.hypot(dx, dy))[:4])
    sides = (-dx, dx, -dy, dy)  # most east, most west, most north, most south
    pairs = []
    for name, side in zip(STREET_NAMES, sides, strict=True):
        index = min(near, key=lambda k, side=side: side[k])
        near.remove(index)
        pairs.append((int(index), name))
    taken = {index for index, _ in pairs}
    rest = sorted(set(range(len(seeds))) - taken, key=lambda k: np.arctan2(dx[k], dy[k]) % (2 * np.pi))
    return pairs + list(zip(rest, TOWN_NAMES, strict=True))


def _villages(rng: np.random.Generator, town: GridSpec) -> list[GridSpec]:
    """About 21 level-3 grids per town, numbered north to south, clipped to the town."""
    count = VILLAGES_PER_TOWN + int(rng.integers(-2, 3))
    seeds = _relaxed_seeds(rng, town.geom, count)
    seeds = seeds[np.lexsort((seeds[:, 0], -seeds[:, 1]))]
    names = _village_names(rng, seeds, town)
    return [
        GridSpec(f"{town.code}-{number:03d}", names[number - 1], 3, town.code, cell)
        for number, cell in enumerate(_cells(seeds, town.geom), start=1)
    ]


def _village_names(rng: np.random.Generator, seeds: np.ndarray, town: GridSpec) -> list[str]:
    """Unique names within the town: a street office has only communities (社区); a town has
    two communities at its seat (nearest its centre) and villages (村) elsewhere."""
    count = len(seeds)
    centre = shapely.get_coordinates(town.geom.centroid)[0]
    is_street = town.name.endswith("街道")
    seat = set(np.argsort(np.hypot(*(seeds - centre).T))[: count if is_street else 2].tolist())
    communities = iter(rng.permutation(len(COMMUNITY_ROOTS))[: len(seat)].tolist())
    villages = iter(rng.permutation(len(VILLAGE_ROOTS))[: count - len(seat)].tolist())
    return [
        f"{COMMUNITY_ROOTS[next(communities)]}社区" if k in seat else f"{VILLAGE_ROOTS[next(villages)]}村"
        for k in range(count)
    ]


def grid_features(grids: list[GridSpec]) -> list[dict]:
    """The grids as GeoJSON features, so they go through the same import as a city's file."""
    return [
        {
            "type": "Feature",
            "properties": {"code": g.code, "name": g.name, "level": g.level, "parent_code": g.parent_code},
            "geometry": mapping(g.geom),
        }
        for g in grids
    ]


def _points_beyond(rng: np.random.Generator, outline: Polygon, count: int) -> np.ndarray:
    """Points 0.4-2 km outside the city, pushed out from random spots on its boundary along
    the ray from the centre (the outline is star-shaped, so that ray leaves the city)."""
    anchors = shapely.line_interpolate_point(outline.exterior, rng.random(count), normalized=True)
    xy = shapely.get_coordinates(anchors)
    outward = (xy - CENTRE) / np.hypot(*(xy - CENTRE).T)[:, None]
    return xy + outward * rng.uniform(0.004, 0.02, (count, 1))


# ---------------------------------------------------------------- people


def full_names(rng: np.random.Generator, count: int) -> list[str]:
    """Synthetic Chinese names: a common surname (the commoner the likelier) and one or two
    given characters."""
    weights = 1 / (np.arange(len(SURNAMES)) + 5)
    surnames = rng.choice(len(SURNAMES), size=count, p=weights / weights.sum())
    given = rng.integers(0, len(GIVEN_CHARS), size=(count, 2))
    two = rng.random(count) < 0.7
    return [
        SURNAMES[s] + GIVEN_CHARS[g[0]] + (GIVEN_CHARS[g[1]] if t else "")
        for s, g, t in zip(surnames.tolist(), given.tolist(), two.tolist(), strict=True)
    ]


def mobile_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Synthetic 11-digit mainland mobile numbers."""
    prefixes = rng.integers(0, len(MOBILE_PREFIXES), count).tolist()
    rest = rng.integers(0, 100_000_000, count).tolist()
    return [f"{MOBILE_PREFIXES[p]}{r:08d}" for p, r in zip(prefixes, rest, strict=True)]


def id_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Synthetic 18-digit resident ID numbers (GB 11643): region, birth date 1950-2004,
    sequence, and a correct check digit, so validators in the app accept them."""
    regions = rng.integers(0, len(ID_REGIONS), count).tolist()
    births = np.datetime64("1950-01-01") + rng.integers(0, 20_000, count).astype("timedelta64[D]")
    dates = np.char.replace(np.datetime_as_string(births, unit="D"), "-", "").tolist()
    sequences = rng.integers(0, 1000, count).tolist()
    bodies = [f"{ID_REGIONS[r]}{d}{s:03d}" for r, d, s in zip(regions, dates, sequences, strict=True)]
    if not bodies:
        return []
    digits = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(count, 17) - 48
    checks = (digits.astype(np.int64) @ ID_WEIGHTS) % 11
    return [body + ID_CHECK_CHARS[c] for body, c in zip(bodies, checks.tolist(), strict=True)]


@dataclass(frozen=True)
class Account:
    """One demo login before it has an id."""

    username: str
    role: Role
    grid_code: str | None
    department_code: str | None
    unit: str


def demo_accounts(geography: Geography, department_names: dict[str, str]) -> list[Account]:
    """Every demo login (see DEMO_LOGINS): admin, command office, a supervisor per town, two
    inspectors per village, an officer per department and three leading officials."""
    accounts = [
        Account("admin", Role.ADMIN, None, None, "市大数据管理中心"),
        Account("command", Role.COMMAND_OFFICE, CITY_CODE, None, COMMAND_UNIT),
    ]
    accounts += [Account(f"town{t.code[2:]}", Role.SUPERVISOR, t.code, None, t.name) for t in geography.towns]
    accounts += [
        Account(f"g{v.code[2:4]}{v.code[5:]}{suffix}", Role.INSPECTOR, v.code, None, v.name)
        for v in geography.villages
        for suffix in "ab"
    ]
    accounts += [
        Account(f"dept_{code}", Role.DEPARTMENT_OFFICER, None, code, name) for code, name in department_names.items()
    ]
    accounts += [
        Account(f"leader{k}", Role.LEADING_OFFICIAL, None, None, f"{CITY_NAME}人民政府")
        for k in range(1, LEADER_COUNT + 1)
    ]
    return accounts


def insert_users(rng: np.random.Generator, accounts: list[Account], grid_ids: dict, department_ids: dict) -> dict:
    """Insert the accounts with one shared password hash; return (id, full name) by username.

    The demo password is hashed once and the string reused: hashing is slow on purpose
    (tens of milliseconds), so hundreds of separate hashes would take minutes.
    """
    first_id = bulk_load.next_id(User)
    password_hash = generate_password_hash(DEMO_PASSWORD)
    names, phones = full_names(rng, len(accounts)), mobile_numbers(rng, len(accounts))
    rows = [
        {
            "id": first_id + k,
            "username": a.username,
            "password_hash": password_hash,
            "full_name": names[k],
            "role": str(a.role),
            "grid_id": grid_ids.get(a.grid_code),
            "department_id": department_ids.get(a.department_code),
            "phone": phones[k],
            "unit": a.unit,
        }
        for k, a in enumerate(accounts)
    ]
    db.session.execute(insert(User.__table__), rows)
    bulk_load.advance_sequence(User.__table__)
    return {a.username: (first_id + k, names[k]) for k, a in enumerate(accounts)}


# ---------------------------------------------------------------- the city as cases see it


@dataclass
class DemoCity:
    """What the case generator needs, indexed the way it draws: village columns by the
    locator's tree position (one extra last entry for "outside every grid"), departments by
    sector index."""

    outline: Polygon
    hotspots: np.ndarray
    locator: GridLocator
    village_names: np.ndarray  # by tree position
    town_names: np.ndarray
    town_ids: np.ndarray
    supervisor_ids: np.ndarray
    inspector_ids: np.ndarray  # (positions, 2)
    command_id: int
    leader_ids: np.ndarray
    sector_department_ids: np.ndarray  # by index in SECTORS
    officer_by_department: dict[int, int]
    police_department_id: int
    user_names: dict[int, str]


def demo_city_handles(geography: Geography, grid_ids: dict, users: dict, department_ids: dict) -> DemoCity:
    """Look up, per level-3 grid in locator order, its names and staff; per sector its route."""
    locator = get_locator()
    user_ids = {username: user_id for username, (user_id, _) in users.items()}
    code_of = {grid_id: code for code, grid_id in grid_ids.items()}
    villages, towns = {v.code: v for v in geography.villages}, {t.code: t for t in geography.towns}
    codes = [code_of[int(g)] for g in locator.grid_ids]
    routes = dict(db.session.execute(select(SectorRoute.sector, SectorRoute.department_id)).all())
    return DemoCity(
        outline=geography.city.geom,
        hotspots=geography.hotspots,
        locator=locator,
        village_names=np.array([villages[c].name for c in codes] + ["与邻县交界处"], dtype=object),
        town_names=np.array([towns[c[:4]].name for c in codes] + [""], dtype=object),
        town_ids=np.array([grid_ids[c[:4]] for c in codes], dtype=np.int64),
        supervisor_ids=np.array([user_ids[f"town{c[2:4]}"] for c in codes], dtype=np.int64),
        inspector_ids=np.array([[user_ids[f"g{c[2:4]}{c[5:]}{s}"] for s in "ab"] for c in codes], dtype=np.int64),
        command_id=user_ids["command"],
        leader_ids=np.array([user_ids[f"leader{k}"] for k in range(1, LEADER_COUNT + 1)], dtype=np.int64),
        sector_department_ids=np.array([routes[str(s)] for s in SECTORS], dtype=np.int64),
        officer_by_department={department_ids[code]: user_ids[f"dept_{code}"] for code in department_ids},
        police_department_id=department_ids["police"],
        user_names=dict(users.values()),
    )


# ---------------------------------------------------------------- drawing the cases


def _choose(rng: np.random.Generator, count: int, weights, cover: bool = True) -> np.ndarray:
    """Indices drawn with the given weights; with ``cover``, every option appears at least
    once when there are enough draws, so a small demo still shows every value."""
    p = np.asarray(weights, dtype=float)
    picks = rng.choice(len(p), size=count, p=p / p.sum())
    if cover and count >= len(p):
        picks[rng.choice(count, size=len(p), replace=False)] = np.arange(len(p))
    return picks


def _index_of(values, members) -> np.ndarray:
    """Positions of ``members`` in the list ``values`` (for np.isin on index columns)."""
    return np.array([values.index(m) for m in members], dtype=np.int64)


def _draw_kinds(rng: np.random.Generator, count: int) -> dict:
    """Kind of complaint (category and subcategory) by the 12369 shares, and a sector that
    fits the kind (catering fumes come from restaurants, construction noise from sites)."""
    kind = _choose(rng, count, [CATEGORY_SHARES[k.category] * k.share for k in KINDS])
    sector = np.zeros(count, dtype=np.int64)
    for k, case_kind in enumerate(KINDS):
        mask = kind == k
        options = _index_of(SECTORS, list(case_kind.sectors))
        sector[mask] = options[_choose(rng, int(mask.sum()), list(case_kind.sectors.values()), cover=False)]
    return {"kind": kind, "sector": sector}


def _draw_channels(rng: np.random.Generator, count: int) -> dict:
    """How each case arrived, and which inspection referred it (central ones split between
    the first round and the follow-up "回头看")."""
    channel = _choose(rng, count, [CHANNEL_WEIGHTS[c] for c in CHANNELS])
    referral = np.full(count, None, dtype=object)
    followup = rng.random(count) < 0.3
    referral[channel == CHANNELS.index(Channel.CENTRAL_INSPECTION)] = str(InspectionReferral.CENTRAL)
    referral[(channel == CHANNELS.index(Channel.CENTRAL_INSPECTION)) & followup] = str(
        InspectionReferral.CENTRAL_FOLLOWUP
    )
    referral[channel == CHANNELS.index(Channel.PROVINCIAL_INSPECTION)] = str(InspectionReferral.PROVINCIAL)
    referral[channel == CHANNELS.index(Channel.SPECIAL_INSPECTION)] = str(InspectionReferral.PROVINCIAL_SPECIAL)
    return {"channel": channel, "inspection_referral": referral}


def _draw_statuses(rng: np.random.Generator, channel: np.ndarray) -> dict:
    """Where each case stands now, and how far along the chain of steps it got.

    An inspection referral is never declined or sent to another channel (the city must
    handle what the inspectors refer), so those redraw. A quarter of the cases in handling
    were reopened by a dissatisfied follow-up: they went through reply, review and
    follow-up before coming back (services.lifecycle.record_follow_up).
    """
    status = _choose(rng, len(channel), [STATUS_WEIGHTS[s] for s in STATUSES])
    refused = _index_of(STATUSES, [CaseStatus.DECLINED, CaseStatus.TRANSFERRED])
    redraw = np.isin(channel, _index_of(CHANNELS, INSPECTION_CHANNELS)) & np.isin(status, refused)
    weights = [0 if s in (CaseStatus.DECLINED, CaseStatus.TRANSFERRED) else STATUS_WEIGHTS[s] for s in STATUSES]
    status[redraw] = _choose(rng, int(redraw.sum()), weights, cover=False)
    handling = status == STATUSES.index(CaseStatus.HANDLING)
    reopened = handling & (rng.random(len(status)) < REOPENED_SHARE_OF_HANDLING)
    depth = np.array([DEPTH[s] for s in STATUSES])[status]
    depth[reopened] = FOLLOW_UP + 1
    return {"status": status, "reopened": reopened, "depth": depth}


def _legal_track(channel: np.ndarray, status: np.ndarray) -> np.ndarray:
    """The legal channel, as services.lifecycle fixes it: at acceptance a report of a violation
    or a petition proper by how the matter came in; a decline is a petition decision; a
    transfer is another channel; none while only registered."""
    petition = np.isin(channel, _index_of(CHANNELS, PETITION_CHANNELS))
    track = np.where(petition, str(LegalTrack.PETITION), str(LegalTrack.VIOLATION_REPORT)).astype(object)
    track[status == STATUSES.index(CaseStatus.DECLINED)] = str(LegalTrack.PETITION)
    track[status == STATUSES.index(CaseStatus.TRANSFERRED)] = str(LegalTrack.OTHER_CHANNEL)
    track[status == STATUSES.index(CaseStatus.REGISTERED)] = None
    return track


def _grid_columns(pos: np.ndarray, city: DemoCity) -> dict:
    """Level-3 grid and town of each case from its locator position (-1 outside every grid,
    which the case table turns into NULL and ``outside_grid``)."""
    at = np.maximum(pos, 0)
    return {
        "grid_id": np.where(pos >= 0, city.locator.grid_ids[at], -1),
        "town_id": np.where(pos >= 0, city.town_ids[at], -1),
    }


def _draw_text_choices(rng: np.random.Generator, count: int) -> dict:
    """Which template, source, road, river and house number each case's text uses (drawn
    up front so that a repeat petition can name the same source as its original)."""
    return {
        "template": rng.integers(0, 1_000_000, count),
        "source": rng.integers(0, 1_000_000, count),
        "brand": rng.integers(0, len(BRANDS), count),
        "road": rng.integers(0, len(ROADS), count),
        "river": rng.integers(0, len(RIVERS), count),
        "house": rng.integers(1, 300, count),
    }


def _draw_milestones(rng: np.random.Generator, depth: np.ndarray, status: np.ndarray) -> dict:
    """Hours from receipt to each step a case has taken (NaN where not taken), to its side
    step (decline, transfer, return request) and to its last event."""
    count = len(depth)
    gaps = np.column_stack([rng.uniform(lo, hi, count) for *_, lo, hi in CHAIN])
    chain = np.cumsum(gaps, axis=1)
    reached = np.where(np.arange(len(CHAIN)) < depth[:, None], chain, np.nan)
    last = np.where(depth > 0, chain[np.arange(count), np.maximum(depth - 1, 0)], 0.0)
    side = np.full(count, np.nan)
    for step_status, (*_, lo, hi) in SIDE_STEPS.items():
        mask = status == STATUSES.index(step_status)
        side[mask] = last[mask] + rng.uniform(lo, hi, int(mask.sum()))
    last = np.where(np.isnan(side), last, side)
    return {"chain_hours": chain, "milestone_hours": reached, "side_hours": side, "last_hours": last}


def _stage_clocks(frame: dict, times: dict) -> list[tuple]:
    """Every clock services.lifecycle would have started on each case, in CLOCK_STAGES order,
    as hours from receipt: (started, start, due, met — NaN while it runs). The acceptance
    notice is taken as sent with the acceptance, the inspection report as filed at assignment."""
    chain, depth, count = times["chain_hours"], frame["depth"], len(frame["depth"])
    track, status = frame["legal_track"], frame["status"]

    def met(step: int) -> np.ndarray:
        """When the case took that step (NaN if it has not)."""
        return np.where(depth > step, chain[:, step], np.nan)

    decided = np.isin(status, _index_of(STATUSES, [CaseStatus.DECLINED, CaseStatus.TRANSFERRED]))
    handle_hours = np.where(track == str(LegalTrack.PETITION), HANDLE_HOURS[LegalTrack.PETITION],
                            HANDLE_HOURS[LegalTrack.VIOLATION_REPORT])  # fmt: skip
    handle_from = np.where(frame["reopened"], chain[:, FOLLOW_UP], chain[:, ACCEPT])
    accepted = depth > ACCEPT
    reports = accepted & np.isin(frame["channel"], _index_of(CHANNELS, [Channel.CENTRAL_INSPECTION,
                                                                         Channel.PROVINCIAL_INSPECTION]))  # fmt: skip
    return [
        (np.ones(count, bool), np.zeros(count), np.full(count, float(ACCEPT_HOURS)),
         np.where(decided, times["side_hours"], met(ACCEPT))),
        (accepted & (track == str(LegalTrack.PETITION)), chain[:, ACCEPT], chain[:, ACCEPT] + NOTICE_HOURS,
         chain[:, ACCEPT]),
        (reports, chain[:, ACCEPT], chain[:, ACCEPT] + REPORT_HOURS, met(ASSIGN)),
        (depth > ASSIGN, chain[:, ASSIGN], chain[:, ASSIGN] + SIGN_HOURS, met(SIGN)),
        (depth > ASSIGN, chain[:, ASSIGN], chain[:, ASSIGN] + RETURN_HOURS, met(SIGN)),
        (depth > SIGN, chain[:, SIGN], chain[:, SIGN] + ONSITE_HOURS, met(ONSITE)),
        (accepted, handle_from, handle_from + handle_hours, np.where(frame["reopened"], np.nan, met(REPLY))),
        (depth > REVIEW, chain[:, REVIEW], chain[:, REVIEW] + FOLLOW_UP_HOURS, met(FOLLOW_UP)),
    ]  # fmt: skip


def _clock_arrays(frame: dict, times: dict) -> dict:
    """The clocks as (cases x stages) arrays, and each case's nearest running clock: its
    start and due time (``due_at``; NaN when none runs, as for finished cases and replied or
    followed-up ones waiting for the next step)."""
    clocks = _stage_clocks(frame, times)
    started, start, due, done = (np.column_stack(parts) for parts in zip(*clocks, strict=True))
    due[~started] = np.nan
    running = started & np.isnan(done)
    nearest = np.argmin(np.where(running, due, np.inf), axis=1)
    rows = np.arange(len(due))
    has_running = running.any(axis=1)
    return {
        "clock_started": started, "clock_start": start, "clock_due": due, "clock_done": done,
        "due_hours": np.where(has_running, due[rows, nearest], np.nan),
        "running_start_hours": np.where(has_running, start[rows, nearest], np.nan),
    }  # fmt: skip


def _clock_used(rng: np.random.Generator, least: np.ndarray) -> np.ndarray:
    """How much of its nearest clock each case with one has used now: ~75 % green, ~15 %
    yellow (≥ 75 %), ~10 % red (overdue), so the map shows every colour; never less than
    ``least``, the share already gone by the case's last event."""
    colour = _choose(rng, len(least), COLOUR_SHARES, cover=False)
    used = np.select(
        [colour == 1, colour == 2],
        [rng.uniform(*YELLOW_USED, len(least)), rng.uniform(*RED_USED, len(least))],
        rng.uniform(0.02, 0.7, len(least)),
    )
    return np.maximum(used, least + 0.01)


def _draw_received(rng: np.random.Generator, frame: dict, now: datetime) -> np.ndarray:
    """Hours before ``now`` at which each case was received.

    A case with no running clock lies anywhere from SPREAD_FROM to its last event at least
    an hour ago; one with a clock is placed so that now falls where its colour draw says.
    """
    start = min(SPREAD_FROM, now - timedelta(days=150))
    window = (now - start).total_seconds() / 3600
    last, due, clock_start = frame["last_hours"], frame["due_hours"], frame["running_start_hours"]
    ago = window - rng.random(len(last)) * np.maximum(window - last - 1, 0)
    running = np.isfinite(due)
    span = due[running] - clock_start[running]
    used = _clock_used(rng, (last[running] - clock_start[running]) / span)
    ago[running] = clock_start[running] + used * span
    return ago


def _to_times(received: np.ndarray, hours: np.ndarray) -> np.ndarray:
    """Times ``hours`` after receipt, to the microsecond; NaT where hours is NaN."""
    micros = np.nan_to_num(hours * 3.6e9).astype(np.int64).astype("timedelta64[us]")
    times = received[..., None] + micros if hours.ndim == 2 else received + micros
    times[np.isnan(hours)] = np.datetime64("NaT")
    return times


def _draw_times(rng: np.random.Generator, frame: dict, now: datetime) -> dict:
    """Every timestamp of every case and its clocks, consistent with its steps and never
    after ``now``."""
    times = _draw_milestones(rng, frame["depth"], frame["status"])
    times.update(_clock_arrays(frame, times))
    ago = _draw_received(rng, {**frame, **times}, now)
    now64 = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")
    received = now64 - (ago * 3.6e9).astype(np.int64).astype("timedelta64[us]")
    patrol = frame["channel"] == CHANNELS.index(Channel.GRID_PATROL)
    registered_hours = np.where(patrol, 0.0, rng.uniform(1 / 60, 10 / 60, len(ago)))
    times.update(
        received_at=received,
        registered_at=_to_times(received, registered_hours),
        milestone_at=_to_times(received, times["milestone_hours"]),
        side_at=_to_times(received, times["side_hours"]),
        last_at=_to_times(received, times["last_hours"]),
    )
    return times


def _draw_locations(rng: np.random.Generator, frame: dict, city: DemoCity) -> dict:
    """Where each case is: industrial-type sources mostly in the industrial parks (Gaussian
    clusters), others anywhere in the city, and ~0.2 % just outside the boundary."""
    count = len(frame["kind"])
    xy = _points_inside(rng, city.outline, count)
    industrial = np.isin(frame["sector"], _index_of(SECTORS, [Sector.INDUSTRIAL, Sector.OUTDATED_CAPACITY]))
    clustered = rng.random(count) < np.where(industrial, 0.75, 0.35)
    park = rng.integers(0, len(city.hotspots), count)
    spread = rng.uniform(0.006, 0.015, len(city.hotspots))[park]
    near = city.hotspots[park] + rng.normal(size=(count, 2)) * spread[:, None] * (HALF_SIZE / HALF_SIZE[1])
    clustered &= shapely.contains_xy(city.outline, near[:, 0], near[:, 1])
    xy[clustered] = near[clustered]
    outside = np.zeros(count, dtype=bool)
    candidates = np.flatnonzero(frame["channel"] != CHANNELS.index(Channel.GRID_PATROL))
    beyond = rng.choice(candidates, size=min(len(candidates), max(1, round(0.002 * count))), replace=False)
    xy[beyond] = _points_beyond(rng, city.outline, len(beyond))
    outside[beyond] = True
    return {"lon": xy[:, 0], "lat": xy[:, 1], "planned_outside": outside}


def _pick_originals(rng: np.random.Generator, frame: dict) -> np.ndarray:
    """For ~5 % of petitions, an earlier case of the same category they repeat (recent ones
    likelier); -1 for the rest. Rows are in order of receipt, so earlier means lower."""
    count = len(frame["kind"])
    category = np.array([CATEGORIES.index(k.category) for k in KINDS])[frame["kind"]]
    inside = ~frame["planned_outside"]
    eligible = np.flatnonzero(np.isin(frame["channel"], _index_of(CHANNELS, REPEATABLE_CHANNELS)) & inside)
    picks = np.sort(rng.choice(eligible, size=min(len(eligible), round(0.05 * count)), replace=False))
    repeat_of = np.full(count, -1, dtype=np.int64)
    for c in np.unique(category[picks]):
        pool = np.flatnonzero((category == c) & inside)
        mine = picks[category[picks] == c]
        earlier = np.searchsorted(pool, mine)
        mine, earlier = mine[earlier > 0], earlier[earlier > 0]
        back = np.floor(rng.random(len(mine)) ** 2 * earlier).astype(np.int64)
        repeat_of[mine] = pool[earlier - 1 - back]
    return repeat_of


def _link_repeats(rng: np.random.Generator, frame: dict) -> None:
    """Make each repeat petition about the same problem as the first case of its chain: the
    same kind, sector and named source, within ~100 m of it."""
    repeat_of = _pick_originals(rng, frame)
    root = repeat_of.copy()
    while np.any((root >= 0) & (repeat_of[np.maximum(root, 0)] >= 0)):
        hop = (root >= 0) & (repeat_of[np.maximum(root, 0)] >= 0)
        root[hop] = repeat_of[root[hop]]
    rows = np.flatnonzero(root >= 0)
    for name in ("kind", "sector", "template", "source", "brand", "road", "river", "house"):
        frame[name][rows] = frame[name][root[rows]]
    jitter = rng.normal(0, 0.0008, (len(rows), 2))
    frame["lon"][rows] = frame["lon"][root[rows]] + jitter[:, 0]
    frame["lat"][rows] = frame["lat"][root[rows]] + jitter[:, 1]
    frame["repeat_of"] = repeat_of


def _rate(wanted: float, pool: int) -> float:
    """The probability that picks ``wanted`` items from a pool of ``pool``, on average."""
    return min(1.0, wanted / pool) if pool else 0.0


def _draw_flags(rng: np.random.Generator, frame: dict) -> dict:
    """The difficult-case flags (DOMAIN.md item 10) at the brief's shares: above-level ~3 %
    (every above-level channel, and a few letters and visits that also went up), dissatisfied
    ~3 % (the reopened cases), superior-assigned ~2 %, suspected crime ~1 %, urgent ~8 %."""
    count, channel = len(frame["kind"]), frame["channel"]
    patrol = channel == CHANNELS.index(Channel.GRID_PATROL)
    via_above = np.isin(channel, _index_of(CHANNELS, ABOVE_LEVEL_CHANNELS))
    also_above = np.isin(channel, _index_of(CHANNELS, PETITION_CHANNELS)) & (rng.random(count) < 0.006)
    times_above = np.where(via_above, 1 + _choose(rng, count, [60, 25, 10, 5], cover=False), 0)
    category = np.array([CATEGORIES.index(k.category) for k in KINDS])[frame["kind"]]
    crime_pool = np.isin(frame["sector"], _index_of(SECTORS, [Sector.INDUSTRIAL, Sector.OUTDATED_CAPACITY])) & (
        category != CATEGORIES.index(Category.NOISE)
    )
    crime = crime_pool & (rng.random(count) < _rate(0.01 * count, crime_pool.sum()))
    above = via_above | also_above
    serious = above | (frame["inspection_referral"] != None) | crime  # noqa: E711
    return {
        "above_level": above,
        "above_level_count": np.where(also_above, 1, times_above),
        "dissatisfied": frame["reopened"].copy(),
        "superior_assigned": ~patrol & (rng.random(count) < _rate(0.02 * count, (~patrol).sum())),
        "suspected_crime": crime,
        "urgent": rng.random(count) < np.where(serious, 0.3, 0.07),
    }


def _draw_people(rng: np.random.Generator, frame: dict, city: DemoCity) -> dict:
    """Department by the sector routing table (suspected crimes to the police, who are to be
    involved early), responsible person once assigned (mostly the town's supervisor, the
    department's officer otherwise), leading official for accepted inspection referrals and
    above-level petitions, and who registered it (the inspector who found it, for patrol
    discoveries)."""
    count, pos = len(frame["kind"]), frame["grid_pos"]
    inside, at = pos >= 0, np.maximum(pos, 0)
    department = city.sector_department_ids[frame["sector"]]
    department[frame["suspected_crime"]] = city.police_department_id
    officer = np.array([city.officer_by_department[d] for d in department.tolist()], dtype=np.int64)
    handler = np.where(inside & (rng.random(count) < 0.7), city.supervisor_ids[at], officer)
    assigned = frame["depth"] > ASSIGN
    leads = (frame["above_level"] | (frame["inspection_referral"] != None)) & (frame["depth"] > ACCEPT)  # noqa: E711
    patrol = (frame["channel"] == CHANNELS.index(Channel.GRID_PATROL)) & inside
    inspector = np.where(inside, city.inspector_ids[at, rng.integers(0, 2, count)], handler)
    return {
        "department_id": department,
        "handler_id": handler,
        "responsible_person_id": np.where(assigned, handler, -1),
        "assigned_by_id": np.where(assigned, city.command_id, -1),
        "leading_official_id": np.where(leads, city.leader_ids[rng.integers(0, LEADER_COUNT, count)], -1),
        "created_by_id": np.where(patrol, inspector, city.command_id),
        "field_id": np.where(inside, city.inspector_ids[at, 0], handler),
        "discovered_by_grid_id": np.where(patrol, frame["grid_id"], -1),
    }


def _draw_petitioners(rng: np.random.Generator, frame: dict) -> dict:
    """Who complained: ~15 % anonymous (no personal data at all); patrol discoveries have
    no petitioner; the rest a synthetic name, mobile number and ID number."""
    count = len(frame["kind"])
    patrol = frame["channel"] == CHANNELS.index(Channel.GRID_PATROL)
    anonymous = ~patrol & (rng.random(count) < 0.15)
    named = ~patrol & ~anonymous
    columns = {"anonymous": anonymous}
    for column, make in (("petitioner_name", full_names), ("petitioner_phone", mobile_numbers),
                         ("petitioner_id_number", id_numbers)):  # fmt: skip
        values = np.full(count, None, dtype=object)
        values[named] = make(rng, int(named.sum())) if named.any() else []
        columns[column] = values
    return columns


def _draw_transfers(rng: np.random.Generator, status: np.ndarray) -> dict:
    """Where each transferred matter was sent and why (a matter for another channel)."""
    transferred = status == STATUSES.index(CaseStatus.TRANSFERRED)
    to = np.full(len(status), None, dtype=object)
    picks = rng.integers(0, len(TRANSFER_TARGETS), int(transferred.sum()))
    to[transferred] = np.array(TRANSFER_TARGETS, dtype=object)[picks]
    reason = np.full(len(status), None, dtype=object)
    reason[transferred] = "反映事项不属于环境信访受理范围，已书面告知信访人通过相应途径解决。"
    return {"transferred_to": to, "transfer_reason": reason}


def _sorted_by_receipt(frame: dict) -> dict:
    """Every column reordered by time of receipt, so ids and case numbers follow it."""
    order = np.argsort(frame["received_at"], kind="stable")
    return {name: values[order] for name, values in frame.items()}


def draw_cases(rng: np.random.Generator, count: int, city: DemoCity, now: datetime) -> dict:
    """Every column of ``count`` cases as numpy arrays, rows in order of receipt."""
    frame = _draw_kinds(rng, count)
    frame.update(_draw_channels(rng, count))
    frame.update(_draw_statuses(rng, frame["channel"]))
    frame["legal_track"] = _legal_track(frame["channel"], frame["status"])
    frame.update(_draw_text_choices(rng, count))
    frame.update(_draw_times(rng, frame, now))
    frame = _sorted_by_receipt(frame)
    frame.update(_draw_locations(rng, frame, city))
    _link_repeats(rng, frame)
    frame["lon"], frame["lat"] = np.round(frame["lon"], 7), np.round(frame["lat"], 7)
    frame["grid_pos"] = city.locator.locate_many(frame["lon"], frame["lat"])
    frame.update(_grid_columns(frame["grid_pos"], city))
    frame.update(_draw_flags(rng, frame))
    frame.update(_draw_people(rng, frame, city))
    frame.update(_draw_petitioners(rng, frame))
    frame.update(_draw_transfers(rng, frame["status"]))
    return frame


# ---------------------------------------------------------------- case rows


def _case_numbers(registered: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Year and serial of every case: the registration year in Beijing time (as intake numbers
    them), one reservation per year for the whole batch, serials in order of receipt."""
    years = (registered + np.timedelta64(8, "h")).astype("datetime64[Y]").astype(np.int64) + 1970
    serials = np.zeros(len(years), dtype=np.int64)
    for year in np.unique(years).tolist():
        rows = np.flatnonzero(years == year)
        serials[rows] = reserve_case_numbers(year, len(rows)) + np.arange(len(rows))
    return years, serials


def _due_columns(frame: dict) -> dict:
    """The per-stage due times services.deadlines mirrors onto a case from its clocks (kept
    once met, as the clocks are) and ``due_at``, the nearest running one, all as times."""
    received, due = frame["received_at"], frame["clock_due"]
    mirrored = {"sign_due_at": Stage.SIGN, "onsite_due_at": Stage.ONSITE, "notice_due_at": Stage.NOTICE,
                "handle_due_at": Stage.HANDLE}  # fmt: skip
    columns = {name: _to_times(received, due[:, CLOCK_STAGES.index(stage)]) for name, stage in mirrored.items()}
    columns["due_at"] = _to_times(received, frame["due_hours"])
    return columns


def clock_table(frame: dict, case_ids: np.ndarray, now: datetime, full: bool) -> dict:
    """One row per clock (case_clocks) in flat arrays: every clock with full histories,
    only the running ones (what colours the map and drives reminders) otherwise."""
    keep = frame["clock_started"] & (full | np.isnan(frame["clock_done"]))
    cases, stages = np.nonzero(keep)
    received = frame["received_at"][cases]
    return {
        "case_id": case_ids[cases],
        "stage": np.array([str(s) for s in CLOCK_STAGES], dtype=object)[stages],
        "started_at": _to_times(received, frame["clock_start"][keep]),
        "due_at": _to_times(received, frame["clock_due"][keep]),
        "done_at": _to_times(received, frame["clock_done"][keep]),
        "warned": np.full(len(cases), "", dtype=object),
        "updated_at": np.full(len(cases), np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")),
    }


# Columns the frame already holds in their final form.
_COPIED_COLUMNS = (
    "grid_id", "town_id", "discovered_by_grid_id", "department_id", "responsible_person_id",
    "leading_official_id", "assigned_by_id", "transferred_to", "transfer_reason", "created_by_id",
    "inspection_referral", "anonymous", "petitioner_name", "petitioner_phone", "petitioner_id_number",
    "above_level", "above_level_count", "dissatisfied", "superior_assigned", "suspected_crime",
    "legal_track", "received_at", "registered_at",
)  # fmt: skip


def _labels(members, picks: np.ndarray) -> np.ndarray:
    """The stored string values of enum members chosen by index (None for a None member)."""
    return np.array([None if m is None else str(m) for m in members], dtype=object)[picks]


def case_table(frame: dict, case_ids: np.ndarray) -> dict:
    """Full-length arrays for every case column except the texts, numbers and geometry,
    which are built batch by batch to keep memory flat."""
    milestone, repeat_of = frame["milestone_at"], frame["repeat_of"]
    patrol = frame["channel"] == CHANNELS.index(Channel.GRID_PATROL)
    replied = milestone[:, REPLY].copy()
    replied[frame["reopened"]] = np.datetime64("NaT")  # a reopening clears the reply
    return {
        "id": case_ids,
        "list_kind": np.where(patrol, str(ListKind.POTENTIAL), str(ListKind.EXISTING)).astype(object),
        "channel": _labels(CHANNELS, frame["channel"]),
        "category": _labels([k.category for k in KINDS], frame["kind"]),
        "subcategory": _labels([k.subcategory for k in KINDS], frame["kind"]),
        "sector": _labels(SECTORS, frame["sector"]),
        "priority": np.where(frame["urgent"], str(Priority.URGENT), str(Priority.NORMAL)).astype(object),
        "status": _labels(STATUSES, frame["status"]),
        "input_lon": frame["lon"],
        "input_lat": frame["lat"],
        "outside_grid": frame["grid_pos"] < 0,
        "repeat_of_id": np.where(repeat_of >= 0, case_ids[np.maximum(repeat_of, 0)], -1),
        "reopened_count": frame["reopened"].astype(np.int64),
        "accepted_at": milestone[:, ACCEPT],
        "assigned_at": milestone[:, ASSIGN],
        "signed_at": milestone[:, SIGN],
        "first_onsite_at": milestone[:, ONSITE],
        "replied_at": replied,
        "closed_at": milestone[:, CLOSE],
        "created_at": frame["registered_at"],
        "updated_at": np.maximum(frame["last_at"], frame["registered_at"]),
        **_due_columns(frame),
        **{name: frame[name] for name in _COPIED_COLUMNS},
    }


def _source_name(kind: CaseKind, sector: int, source: int, brand: int) -> str:
    """The source complained about: a named one of the kind, or a business of its sector."""
    if kind.sources:
        return kind.sources[source % len(kind.sources)]
    options = SECTOR_SOURCES[SECTORS[sector]]
    return BRANDS[brand] + options[source % len(options)]


def _case_texts(frame: dict, rows: slice, city: DemoCity) -> tuple[list, list, list]:
    """Title, description and address of each case in the slice: its kind's templates with
    its village, town, road, river and source filled in. Position -1 (outside every grid)
    picks the last entry of the name arrays, the border area."""
    pos = frame["grid_pos"][rows]
    villages, towns = city.village_names[pos].tolist(), city.town_names[pos].tolist()
    picks = [frame[name][rows].tolist() for name in ("kind", "sector", "template", "source", "brand", "road",
                                                      "river", "house", "repeat_of")]  # fmt: skip
    titles, descriptions, addresses = [], [], []
    for village, town, (k, sector, template, source, brand, road, river, house, repeat_of) in zip(
        villages, towns, zip(*picks, strict=True), strict=True
    ):
        kind = KINDS[k]
        fields = {"village": village, "town": town, "road": ROADS[road], "river": RIVERS[river],
                  "source": _source_name(kind, sector, source, brand)}  # fmt: skip
        title = kind.titles[template % len(kind.titles)].format_map(fields)
        titles.append(f"再次反映：{title}" if repeat_of >= 0 else title)
        descriptions.append(kind.descriptions[template % len(kind.descriptions)].format_map(fields))
        addresses.append(f"{town}{village}{ROADS[road]}{house}号")
    return titles, descriptions, addresses


def _case_rows(table: dict, frame: dict, rows: slice, city: DemoCity, numbers: tuple, sqlite: bool) -> tuple:
    """One batch of cases as (column names, row tuples). The location is EWKT text, which
    GeoAlchemy2's bind wraps in GeomFromEWKT (SpatiaLite) and PostGIS parses as is."""
    titles, descriptions, addresses = _case_texts(frame, rows, city)
    years, serials = numbers[0][rows].tolist(), numbers[1][rows].tolist()
    lons, lats = frame["lon"][rows].tolist(), frame["lat"][rows].tolist()
    columns = {name: bulk_load.stored_values(values[rows], sqlite) for name, values in table.items()}
    columns.update(
        number=[format_case_number(y, s) for y, s in zip(years, serials, strict=True)],
        title=titles,
        description=descriptions,
        address=addresses,
        location=[f"SRID={SRID};POINT({x!r} {y!r})" for x, y in zip(lons, lats, strict=True)],
        coord_system=[str(CoordSystem.WGS84)] * len(titles),
    )
    return tuple(columns), list(zip(*columns.values(), strict=True))


def _batches(count: int) -> list[slice]:
    """Row ranges of BATCH_SIZE: big enough to amortise a round-trip, small enough for memory."""
    return [slice(start, min(start + BATCH_SIZE, count)) for start in range(0, count, BATCH_SIZE)]


# ---------------------------------------------------------------- timeline


@dataclass
class _EventContent:
    """The fields ``timeline.event_hash`` reads, without the cost of an ORM object each."""

    case_id: int
    seq: int
    kind: str
    actor_id: int | None
    at: datetime
    note: str
    data: dict
    prev_hash: str


def _chain(case_id: int, steps: list[tuple]) -> list[tuple]:
    """Hash-link one case's steps (kind, note, actor, at, data) into event rows without ids,
    exactly as ``append_event`` would have: seq from 1, the first prev_hash GENESIS_HASH."""
    rows, prev_hash = [], GENESIS_HASH
    for seq, (kind, note, actor, at, data) in enumerate(steps, start=1):
        content = _EventContent(case_id, seq, kind, actor, at, note, data, prev_hash)
        digest = event_hash(content)
        rows.append((case_id, seq, kind, actor, at, note, data, prev_hash, digest))
        prev_hash = digest
    return rows


def _register_step(case: dict) -> tuple:
    """The registration event, with the data intake records."""
    data = {"to": "registered", "channel": case["channel"], "repeat_of_id": case["repeat_of_id"]}
    return ("register", "", case["created_by"], case["registered_at"], data)


def _step_data(index: int, case: dict) -> dict:
    """What services.lifecycle keeps of a step: the move and its structured fields."""
    after = STATE_BEFORE[index + 1] if index + 1 < len(STATE_BEFORE) else "closed"
    fields = {}
    if index == ACCEPT:
        fields = {"legal_track": case["legal_track"]}
    elif index == ASSIGN:
        fields = {k: case[k] for k in ("department_id", "responsible_person_id", "leading_official_id")}
    elif index == REPLY:
        fields = {"decision": case["decision"]}
    elif index == FOLLOW_UP:
        fields = {"satisfaction": case["satisfaction"]}
        after = "handling" if case["reopened"] else after
    kept = {k: v for k, v in fields.items() if v is not None}
    return {"from": STATE_BEFORE[index], "to": after, **kept}


def _case_steps(case: dict) -> list[tuple]:
    """The timeline a case's history implies, as the lifecycle would have written it:
    register, each step taken, then its side step (decline, transfer, return request)."""
    actors = {"desk": case["command"], "handler": case["handler"], "field": case["field"]}
    steps = [_register_step(case)]
    for index, ((name, actor, *_), at) in enumerate(zip(CHAIN, case["milestones"], strict=True)):
        if at is None:
            break
        steps.append((name, STEP_NOTES.get(name, ""), actors[actor], at, _step_data(index, case)))
    side = SIDE_STEPS.get(case["status"])
    if side:
        data = {"from": STATE_BEFORE[len(steps) - 1], "to": case["status"]}
        if case["transferred_to"]:
            data["transferred_to"] = case["transferred_to"]
        steps.append((side[0], "", actors[side[1]], case["side_at"], data))
    return steps


def _satisfaction(frame: dict, rows: slice, columns: dict) -> list[str | None]:
    """The rating each follow-up recorded: dissatisfied for the reopened cases, mostly
    satisfied otherwise; none where nobody could be asked (anonymous or patrol-found)."""
    basically = (frame["template"][rows] % 4 == 0).tolist()
    return [
        "dissatisfied" if reopened else ("basically_satisfied" if rough else "satisfied") if asked else None
        for reopened, rough, asked in zip(columns["reopened"], basically, columns["has_petitioner"], strict=True)
    ]


def _register_columns(table: dict, frame: dict, rows: slice) -> dict:
    """Per case of the batch, what its registration event is made of."""
    return {
        "id": table["id"][rows].tolist(),
        "registered_at": bulk_load.python_values(frame["registered_at"][rows]),
        "created_by": table["created_by_id"][rows].tolist(),
        "channel": table["channel"][rows].tolist(),
        "repeat_of_id": bulk_load.python_values(table["repeat_of_id"][rows]),
    }


def _history_columns(table: dict, frame: dict, rows: slice) -> dict:
    """Per case of the batch, what its whole timeline and handling records are made of."""
    milestones = zip(*(bulk_load.python_values(frame["milestone_at"][rows, j]) for j in range(len(CHAIN))), strict=True)
    columns = _register_columns(table, frame, rows)
    columns.update(
        milestones=list(milestones),
        side_at=bulk_load.python_values(frame["side_at"][rows]),
        handle_due_at=bulk_load.python_values(table["handle_due_at"][rows]),
        handler=frame["handler_id"][rows].tolist(),
        field=frame["field_id"][rows].tolist(),
        reopened=frame["reopened"][rows].tolist(),
        has_petitioner=(table["petitioner_name"][rows] != None).tolist(),  # noqa: E711
        decision=np.where(frame["template"][rows] % 5 == 0, "explain", "support").tolist(),
    )
    for name in ("status", "legal_track", "transferred_to", "category"):
        columns[name] = table[name][rows].tolist()
    for name in ("department_id", "responsible_person_id", "leading_official_id"):
        columns[name] = bulk_load.python_values(table[name][rows])
    columns["satisfaction"] = _satisfaction(frame, rows, columns)
    return columns


def _as_cases(columns: dict, command_id: int) -> list[dict]:
    """Column lists turned into one dict per case."""
    names = list(columns)
    return [dict(zip(names, values, strict=True), command=command_id) for values in zip(*columns.values(),
                                                                                         strict=True)]  # fmt: skip


def _timeline_rows(cases: list[dict], full: bool, sqlite: bool) -> list[tuple]:
    """Hash-chained event rows (without ids) for a batch of cases, times and JSON as stored
    (json.dumps, as SQLAlchemy's JSON type would)."""
    return [
        (case_id, seq, kind, actor, bulk_load.stored_time(at, sqlite), note, json.dumps(data), prev_hash, digest)
        for case in cases
        for case_id, seq, kind, actor, at, note, data, prev_hash, digest in _chain(
            case["id"], _case_steps(case) if full else [_register_step(case)]
        )
    ]


def insert_timelines(table: dict, frame: dict, city: DemoCity, sqlite: bool) -> int:
    """Write every case's hash-chained timeline in bulk; return how many events.

    Up to FULL_TIMELINE_MAX cases each get their whole history (register, accept, assign,
    sign, …) and the handling records the lifecycle's next steps read; above that only the
    "register" event, because a full history for a million cases would be millions more
    hashed rows for little demo value.
    """
    count = len(table["id"])
    full = count <= FULL_TIMELINE_MAX
    next_id, written = bulk_load.next_id(CaseEvent), 0
    with bulk_load.bulk_load(CaseEvent.__table__):
        for rows in _batches(count):
            columns = _history_columns(table, frame, rows) if full else _register_columns(table, frame, rows)
            cases = _as_cases(columns, city.command_id)
            events = _timeline_rows(cases, full, sqlite)
            bulk_load.bulk_insert(CaseEvent.__table__, EVENT_COLUMNS, [(next_id + k, *e) for k, e in enumerate(events)])
            next_id, written = next_id + len(events), written + len(events)
            if full:
                insert_handling_records(cases, city.user_names)
    bulk_load.advance_sequence(CaseEvent.__table__)
    return written


# ---------------------------------------------------------------- handling records


def _plan_row(case: dict, names: dict[int, str]) -> dict:
    """The one-case-one-plan (一案一策) a case in handling or beyond was given."""
    due = case["handle_due_at"]
    return {
        "case_id": case["id"], "measures": PLAN_MEASURES, "department_id": case["department_id"],
        "responsible_person_id": case["handler"], "responsible_name": names[case["handler"]],
        "target_date": (due + timedelta(hours=8)).date(), "created_by_id": case["handler"],
        "created_at": case["milestones"][PLAN],
    }  # fmt: skip


def _reply_row(case: dict) -> dict:
    """The written reply (书面答复) and, once reviewed, its passed review."""
    problem, law = PROBLEMS[case["category"]]
    reviewed = case["milestones"][REVIEW]
    return {
        "case_id": case["id"], "request_summary": f"反映{problem}问题，请求依法查处。",
        "facts_and_reasons": REPLY_FACTS, "decision": case["decision"],
        "legal_basis": f"{law}；《信访工作条例》第三十二条", "replied_by_id": case["handler"],
        "replied_at": case["milestones"][REPLY], "review_passed": True if reviewed else None,
        "reviewed_by_id": case["command"] if reviewed else None, "reviewed_at": reviewed,
    }  # fmt: skip


def _follow_up_row(case: dict) -> dict:
    """The follow-up (回访): the petitioner's rating, or why nobody could be asked."""
    return {
        "case_id": case["id"], "satisfaction": case["satisfaction"], "source": "desk",
        "not_possible_reason": "" if case["satisfaction"] else "无信访人联系方式（匿名或巡查发现），无法回访",
        "recorded_by_id": case["command"], "recorded_at": case["milestones"][FOLLOW_UP],
    }  # fmt: skip


def _return_row(case: dict) -> dict:
    """The pending return request (退单) of a case waiting for the assigner's decision."""
    return {
        "case_id": case["id"], "reason": "反映事项不属于本单位职责范围，请改派相关部门。",
        "requested_by_id": case["handler"], "requested_at": case["side_at"],
    }  # fmt: skip


def insert_handling_records(cases: list[dict], names: dict[int, str]) -> None:
    """The records the lifecycle's next steps read, so every action on a demo case works as
    on a real one: plans, replies and reviews, follow-ups, and pending return requests."""
    tables = {CasePlan: [], CaseReply: [], FollowUp: [], CaseReturn: []}
    for case in cases:
        taken = sum(at is not None for at in case["milestones"])
        if taken > PLAN:
            tables[CasePlan].append(_plan_row(case, names))
        if taken > REPLY:
            tables[CaseReply].append(_reply_row(case))
        if taken > FOLLOW_UP:
            tables[FollowUp].append(_follow_up_row(case))
        if case["status"] == CaseStatus.RETURN_REQUESTED:
            tables[CaseReturn].append(_return_row(case))
    for model, rows in tables.items():
        if rows:
            db.session.execute(insert(model.__table__), rows)


# ---------------------------------------------------------------- the whole city


def insert_demo_cases(rng: np.random.Generator, count: int, city: DemoCity, now: datetime) -> int:
    """Draw ``count`` cases, number them, insert them and their timelines; return events."""
    frame = draw_cases(rng, count, city, now)
    table = case_table(frame, bulk_load.next_id(Case) + np.arange(count))
    numbers = _case_numbers(frame["registered_at"])
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    with bulk_load.bulk_load(Case.__table__):
        for rows in _batches(count):
            bulk_load.bulk_insert(Case.__table__, *_case_rows(table, frame, rows, city, numbers, sqlite))
    bulk_load.advance_sequence(Case.__table__)
    insert_clocks(clock_table(frame, table["id"], now, count <= FULL_TIMELINE_MAX), sqlite)
    return insert_timelines(table, frame, city, sqlite)


def insert_clocks(clocks: dict, sqlite: bool) -> None:
    """Write the clocks in batches with ids assigned here."""
    columns = ("id", *clocks)
    clocks = {"id": bulk_load.next_id(CaseClock) + np.arange(len(clocks["case_id"])), **clocks}
    with bulk_load.bulk_load(CaseClock.__table__):
        for rows in _batches(len(clocks["id"])):
            values = [bulk_load.stored_values(clocks[name][rows], sqlite) for name in columns]
            bulk_load.bulk_insert(CaseClock.__table__, columns, list(zip(*values, strict=True)))
    bulk_load.advance_sequence(CaseClock.__table__)


@dataclass
class SeedSummary:
    """What a seed created."""

    towns: int
    villages: int
    users: int
    cases: int
    events: int
    sources: int = 0
    patrols: int = 0

    @property
    def grids(self) -> int:
        """All grids: the city, its towns and its villages."""
        return 1 + self.towns + self.villages


def existing_data_counts() -> dict[str, int]:
    """Grids, users and cases already in the database: the demo city is never mixed into
    existing data (codes, usernames and case numbers would clash or duplicate)."""
    return {
        "grids": db.session.scalar(select(func.count(Grid.id))),
        "users": db.session.scalar(select(func.count(User.id))),
        "cases": db.session.scalar(select(func.count(Case.id))),
    }


def seed_demo_city(case_count: int = 2000, seed: int = 42, now: datetime | None = None) -> SeedSummary:
    """Build the demo city in the caller's transaction (flushed, not committed).

    Geography, people and cases draw from three independent streams of the seed, so the
    same seed gives the same map and logins whatever the number of cases.
    """
    # A fourth stream (the source register) leaves the first three, and so the city, unchanged.
    streams = np.random.SeedSequence(seed).spawn(4)
    geo_rng, people_rng, case_rng, source_rng = (np.random.default_rng(s) for s in streams)
    geography = build_geography(geo_rng)
    import_grids(grid_features(geography.grids))
    departments = ensure_default_departments()
    grid_ids = dict(db.session.execute(select(Grid.code, Grid.id)).all())
    department_ids = {code: d.id for code, d in departments.items()}
    accounts = demo_accounts(geography, {code: d.name for code, d in departments.items()})
    users = insert_users(people_rng, accounts, grid_ids, department_ids)
    events = 0
    if case_count:
        city = demo_city_handles(geography, grid_ids, users, department_ids)
        events = insert_demo_cases(case_rng, case_count, city, now or utcnow())
        rebuild_wall_cells()
    register = demo_sources.seed_sources(source_rng, now or utcnow())
    return SeedSummary(len(geography.towns), len(geography.villages), len(accounts), case_count, events,
                       register.sources, register.patrols)
