"""Import grid boundaries from GeoJSON: validate every feature, repair what can be repaired,
and import all or nothing, upserting by code."""

import json
from dataclasses import dataclass, field

import shapely
from geoalchemy2.shape import from_shape
from shapely.geometry import MultiPolygon, Polygon, shape
from sqlalchemy import func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import Grid
from app.models.types import SRID
from app.services.settings import get_setting


@dataclass
class GridFeature:
    """One feature that passed validation."""

    code: str
    name: str
    level: int
    parent_code: str | None
    geom: MultiPolygon
    repaired: bool


@dataclass
class ImportReport:
    """What an import did."""

    created: int = 0
    updated: int = 0
    repaired: list[str] = field(default_factory=list)
    # Which levels the city now has and what that means for placing cases (placement_notes).
    levels: list[str] = field(default_factory=list)


def load_feature_collection(text: str) -> list[dict]:
    """Parse GeoJSON text into its features, or say plainly why it is not a FeatureCollection."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"文件不是有效的 JSON：第 {exc.lineno} 行，{exc.msg}") from exc
    if not isinstance(data, dict) or data.get("type") != "FeatureCollection":
        raise InvalidInput("文件必须是 GeoJSON FeatureCollection。")
    features = data.get("features")
    if not isinstance(features, list) or not features:
        raise InvalidInput("FeatureCollection 中没有任何要素（features）。")
    return features


def _polygonal(geom: shapely.Geometry) -> MultiPolygon:
    """Keep the polygon parts of a geometry as one MultiPolygon (drops stray lines/points)."""
    parts = [g for g in shapely.get_parts(geom) if isinstance(g, Polygon) and not g.is_empty]
    nested = [p for g in shapely.get_parts(geom) if isinstance(g, MultiPolygon) for p in g.geoms]
    return MultiPolygon(parts + nested)


def _check_geometry(raw) -> tuple[MultiPolygon, bool]:
    """Turn a GeoJSON geometry into a valid WGS-84 MultiPolygon; raise ValueError if impossible."""
    if not isinstance(raw, dict) or raw.get("type") not in ("Polygon", "MultiPolygon"):
        raise ValueError("几何类型必须是 Polygon 或 MultiPolygon")
    try:
        geom = shape(raw)
    except (ValueError, TypeError, IndexError, AttributeError) as exc:
        raise ValueError(f"几何坐标无法解析（{exc}）") from exc
    if geom.is_empty:
        raise ValueError("几何为空")
    minx, miny, maxx, maxy = geom.bounds
    if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
        raise ValueError("坐标超出经纬度范围，应为 WGS-84 经度、纬度")
    repaired = not geom.is_valid
    if repaired:
        geom = shapely.make_valid(geom)
    geom = _polygonal(geom)
    if geom.is_empty or geom.area == 0:
        raise ValueError("几何无效且无法修复（修复后面积为零）")
    return geom, repaired


def _check_properties(props) -> tuple[str, str, int, str | None]:
    """Validate code, name, level and parent_code; raise ValueError with every problem."""
    if not isinstance(props, dict):
        raise ValueError("缺少 properties")
    problems = []
    code = str(props.get("code") or "").strip()
    name = str(props.get("name") or "").strip()
    parent_code = str(props.get("parent_code") or "").strip() or None
    level = props.get("level")
    if not code or len(code) > 32:
        problems.append("code 必填且不超过 32 个字符")
    if not name or len(name) > 100:
        problems.append("name 必填且不超过 100 个字符")
    if isinstance(level, str) and level.strip().isdigit():
        level = int(level)
    if level not in (1, 2, 3):
        problems.append("level 必须是 1、2 或 3")
    elif level == 1 and parent_code:
        problems.append("一级网格不应有 parent_code")
    elif level in (2, 3) and not parent_code:
        problems.append("二、三级网格必须填写 parent_code")
    if problems:
        raise ValueError("；".join(problems))
    return code, name, level, parent_code


def validate_features(features: list[dict]) -> list[GridFeature]:
    """Validate every feature; raise InvalidInput listing each bad one by position and code."""
    valid: list[GridFeature] = []
    errors: dict[str, str] = {}
    for position, feature in enumerate(features, start=1):
        label = f"第 {position} 个要素"
        try:
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise ValueError("不是 GeoJSON Feature")
            code, name, level, parent_code = _check_properties(feature.get("properties"))
            label = f"第 {position} 个要素（编码 {code}）"
            geom, repaired = _check_geometry(feature.get("geometry"))
            valid.append(GridFeature(code, name, level, parent_code, geom, repaired))
        except ValueError as exc:
            errors[label] = str(exc)
    _check_codes_and_parents(valid, errors)
    if errors:
        raise InvalidInput(f"有 {len(errors)} 个要素有误，未导入任何网格。", errors)
    return valid


def _check_codes_and_parents(valid: list[GridFeature], errors: dict[str, str]) -> None:
    """Codes are unique in the file; each parent exists (in the file or the database) one level up."""
    seen: dict[str, GridFeature] = {}
    for feature in valid:
        if feature.code in seen:
            errors[f"编码 {feature.code}"] = "编码在文件中重复"
        seen[feature.code] = feature
    parent_codes = {f.parent_code for f in valid if f.parent_code and f.parent_code not in seen}
    levels = {code: f.level for code, f in seen.items()}
    if parent_codes:
        rows = db.session.execute(select(Grid.code, Grid.level).where(Grid.code.in_(parent_codes)))
        levels.update(rows.all())
    for feature in valid:
        if not feature.parent_code:
            continue
        parent_level = levels.get(feature.parent_code)
        if parent_level is None:
            errors[f"编码 {feature.code}"] = f"上级网格 {feature.parent_code} 不存在"
        elif parent_level != feature.level - 1:
            errors[f"编码 {feature.code}"] = f"上级网格 {feature.parent_code} 的级别应为 {feature.level - 1}"


def import_grids(features: list[dict]) -> ImportReport:
    """Validate then upsert every grid by code, parents first, in the caller's transaction."""
    report = ImportReport()
    valid = sorted(validate_features(features), key=lambda f: f.level)
    existing = {g.code: g for g in db.session.scalars(select(Grid).where(Grid.code.in_([f.code for f in valid])))}
    for feature in valid:
        grid = existing.get(feature.code)
        if grid is None:
            grid = Grid(code=feature.code)
            db.session.add(grid)
            existing[feature.code] = grid
            report.created += 1
        else:
            report.updated += 1
        grid.name = feature.name
        grid.level = feature.level
        grid.geom = from_shape(feature.geom, srid=SRID)
        grid.parent = _parent(feature.parent_code, existing)
        if feature.repaired:
            report.repaired.append(feature.code)
    db.session.flush()
    report.levels = placement_notes()
    return report


def placement_notes() -> list[str]:
    """The levels the stored grids have, and how new cases will be placed with them
    (services.geo.placement), in words an administrator can act on."""
    counts = dict(db.session.execute(select(Grid.level, func.count(Grid.id)).group_by(Grid.level)).all())
    city, towns, villages = (counts.get(level, 0) for level in (1, 2, 3))
    notes = [f"现有网格：市级 {city} 个、镇（街道）{towns} 个、村（社区）{villages} 个。"]
    bare = list(db.session.scalars(select(Grid.name).where(
        Grid.level == 2, ~Grid.id.in_(select(Grid.parent_id).where(Grid.level == 3, Grid.parent_id.is_not(None))),
    ).order_by(Grid.code)))
    if not towns:
        notes.append("没有镇（街道）级网格：案件无法落位到镇街，镇街管理员看不到任何案件，请补充镇街边界。")
    elif not villages:
        notes.append("没有村（社区）级网格：案件落位到所在镇（街道），按村统计和按村分派网格员不可用。")
    elif bare:
        notes.append(f"{len(bare)} 个镇（街道）没有村（社区）级网格（{'、'.join(bare[:10])}"
                     f"{' 等' if len(bare) > 10 else ''}）：这些镇街的案件落位到镇街。")
    else:
        notes.append("案件落位到所在村（社区）及其镇（街道）。")
    tolerance = get_setting("grid_gap_tolerance_m")
    notes.append(f"边界之间的缝隙：不在任何网格内、但距网格不超过 {tolerance} 米（系统参数“网格缝隙容差”）的位置"
                 "归入最近的网格，并在案件上标记。")
    if city:
        notes.append("市级边界之外且距各网格超过容差的位置，登记时须确认为「市外」，进入指挥部办公室的市外件队列。")
    else:
        notes.append("没有市级边界：距各网格超过容差的位置视为市外，登记时须确认为「市外」。")
    return notes


def _parent(parent_code: str | None, known: dict[str, Grid]) -> Grid | None:
    """The parent grid by code, from this import or the database."""
    if parent_code is None:
        return None
    if parent_code not in known:
        known[parent_code] = db.session.scalar(select(Grid).where(Grid.code == parent_code))
    return known[parent_code]
