"""The city's own base map (底图): import roads, water and place names from the files a
natural-resources bureau hands over, and give the wall what lies in its view.

Files: GeoJSON, a zipped Shapefile (.shp .shx .dbf, with .prj and often no .cpg: such DBF text
is read as GBK when UTF-8 does not fit), or a GeoPackage. GDAL reads them (pyogrio); a
projected system such as CGCS2000 / 3-degree Gauss-Krüger is turned into longitude and latitude
with PROJ (pyproj). CGCS2000 and WGS-84 differ by centimetres, so geographic CGCS2000 is stored
as it is, as every other part of Firstline does.
"""

import io
import tempfile
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import shapely
from geoalchemy2.shape import from_shape, to_shape
from pyogrio import list_layers
from pyogrio import raw as ogr
from pyogrio.errors import DataLayerError, DataSourceError
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import mapping
from sqlalchemy import delete, func, select

from app.errors import InvalidInput
from app.extensions import db
from app.models import BaseMapFeature
from app.models.types import SRID
from app.models.vocab import BaseLayer
from app.services import clock
from app.services.geo.spatial import in_bbox

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_FEATURES = 200_000
# Attribute names that carry a feature's name or class, in the order they are tried: the
# common English ones, and those Chinese surveys use (名称, MC = 名称, DMMC = 地名名称, DJ = 等级).
NAME_FIELDS = ("name", "名称", "mc", "dmmc", "roadname", "road_name", "hdmc", "名字", "name_zh", "name_cn")
KIND_FIELDS = ("fclass", "class", "kind", "type", "highway", "waterway", "natural", "等级", "dj", "类型", "lx", "gb")
# From which zoom a class is drawn: the city's frame at 9-10, the town's at 12, lanes at 14.
ROAD_ZOOMS = (({"motorway", "trunk", "primary", "高速", "国道", "省道", "高速公路", "一级"}, 9),
              ({"secondary", "tertiary", "县道", "城市主干道", "主干道", "二级", "三级"}, 11))
PLACE_ZOOMS = (({"city", "town", "镇", "街道", "乡", "市", "区"}, 9),
               ({"station", "park", "车站", "火车站", "公园", "园区", "工业园", "港口", "码头", "机场"}, 11),
               ({"village", "村", "社区", "居委会"}, 12))
DEFAULT_ZOOM = {BaseLayer.ROAD: 13, BaseLayer.WATER: 12, BaseLayer.PLACE: 13}
# A lake or river polygon larger than this (square degrees, about 1 km²) shows at city scale.
LARGE_WATER = 1e-4
UNREADABLE = "无法读取底图文件：请上传 GeoJSON、打包的 Shapefile（.zip）或 GeoPackage（.gpkg）。"
# Simplification on the way out: about a third of a screen pixel at each zoom.
TOLERANCE_AT_ZOOM_0 = 360 / 256 / 3


@dataclass
class ImportReport:
    """What one import did, for the admin's page."""

    layer: str
    imported: int = 0
    replaced: int = 0
    source_crs: str = ""
    encoding: str = ""
    skipped: list[str] = field(default_factory=list)


def read_features(data: bytes, filename: str) -> tuple[list[tuple[shapely.Geometry, dict]], str, str]:
    """Every feature of every layer in the file, in WGS-84, with its attributes; the file's
    coordinate system and the text encoding used."""
    if not data:
        raise InvalidInput("请选择底图文件。")
    if len(data) > MAX_FILE_BYTES:
        raise InvalidInput(f"底图文件过大（上限 {MAX_FILE_BYTES // 1024 // 1024} MB），请按图层分开导入。")
    if filename.lower().endswith(".zip") and not _zip_has_shapefile(data):
        raise InvalidInput("压缩包中没有 .shp 文件：Shapefile 须连同 .shx、.dbf（和 .prj）一起打包。")
    # A Shapefile without .cpg does not say how its text is encoded: UTF-8 is tried first (GBK
    # text is almost never valid UTF-8), then GBK, which older Chinese GIS software writes.
    encodings = [None] if _declares_encoding(data, filename) else ["UTF-8", "GBK"]
    with tempfile.TemporaryDirectory() as folder:
        # GDAL tells formats apart partly by the file's extension, so the upload keeps its own.
        path = Path(folder) / f"upload{_extension(filename)}"
        path.write_bytes(data)
        try:
            layers = [str(name) for name, _ in list_layers(path)]
        except (DataSourceError, DataLayerError, ValueError) as exc:
            raise InvalidInput(UNREADABLE) from exc
        for encoding in encodings:
            try:
                features, crs = _read_layers(path, layers, encoding)
            except (UnicodeDecodeError, DataSourceError, DataLayerError, ValueError) as exc:
                if encoding == encodings[-1]:
                    raise InvalidInput("无法读取底图文件中的文字：请附上 .cpg 文件注明编码（UTF-8 或 GBK）。") from exc
                continue
            if encoding != encodings[-1] and _garbled(features):
                continue
            break
    if not features:
        raise InvalidInput("底图文件中没有任何要素。")
    if len(features) > MAX_FEATURES:
        raise InvalidInput(f"要素过多（{len(features)} 个，上限 {MAX_FEATURES}），请按图层分开导入。")
    return features, crs, encoding or "UTF-8"


def _zip_has_shapefile(data: bytes) -> bool:
    try:
        return any(n.lower().endswith(".shp") for n in zipfile.ZipFile(io.BytesIO(data)).namelist())
    except zipfile.BadZipFile:
        raise InvalidInput("压缩包已损坏，无法打开。") from None


def _declares_encoding(data: bytes, filename: str) -> bool:
    """A Shapefile says its encoding only in a .cpg file; other formats are UTF-8 by rule."""
    if not filename.lower().endswith(".zip"):
        return True
    return any(n.lower().endswith(".cpg") for n in zipfile.ZipFile(io.BytesIO(data)).namelist())


def _extension(filename: str) -> str:
    suffix = Path(filename).suffix.lower()
    return suffix if suffix in (".zip", ".gpkg", ".geojson", ".json", ".shp") else ".geojson"


def _read_layers(path: Path, layers: list[str], encoding: str | None) -> tuple[list, str]:
    features, crs_name = [], ""
    for layer in layers:
        meta, _, geometries, values = ogr.read(path, layer=layer, encoding=encoding)
        if geometries is None:
            continue
        shapes = shapely.from_wkb(geometries)
        crs_name = meta.get("crs") or crs_name
        shapes = _to_wgs84(shapes, meta.get("crs"))
        names = [str(n) for n in meta["fields"]]
        for index, geom in enumerate(shapes):
            if geom is None or geom.is_empty:
                continue
            features.append((geom, {names[k]: values[k][index] for k in range(len(names))}))
    return features, crs_name


def _to_wgs84(shapes: np.ndarray, crs_text: str | None) -> np.ndarray:
    """Projected coordinates (metres) to longitude and latitude; geographic ones as they are."""
    if not crs_text:
        return shapes
    try:
        crs = CRS.from_user_input(crs_text)
    except CRSError as exc:
        raise InvalidInput(f"无法识别底图文件的坐标系：{crs_text}") from exc
    if crs.is_geographic:
        return shapes
    to_lonlat = Transformer.from_crs(crs, CRS.from_epsg(SRID), always_xy=True)
    return shapely.transform(shapes, lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))


def _garbled(features: list) -> bool:
    """Text that decoded to private-use or replacement characters was not in this encoding."""
    for _, attributes in features[:200]:
        for value in attributes.values():
            if isinstance(value, str) and any(ch == "\ufffd" or "\ue000" <= ch <= "\uf8ff" for ch in value):
                return True
    return False


def _attribute(attributes: dict, candidates: tuple[str, ...]) -> str:
    lowered = {str(k).lower(): v for k, v in attributes.items()}
    for name in candidates:
        value = lowered.get(name)
        if value not in (None, "") and not (isinstance(value, float) and np.isnan(value)):
            return str(value).strip()
    return ""


def min_zoom_for(layer: str, kind: str, geom: shapely.Geometry) -> int:
    """The zoom a feature is first drawn at: main roads and big water at city scale."""
    kind_l = kind.lower()
    table = ROAD_ZOOMS if layer == BaseLayer.ROAD else PLACE_ZOOMS if layer == BaseLayer.PLACE else ()
    for classes, zoom in table:
        if kind_l in classes or any(c in kind for c in classes if not c.isascii()):
            return zoom
    if layer == BaseLayer.WATER:
        if geom.geom_type.endswith("Polygon"):
            return 9 if geom.area >= LARGE_WATER else 12
        return 10 if geom.length >= 0.02 else 12  # a river across a town (2 km and more), or a ditch
    return DEFAULT_ZOOM[BaseLayer(layer)]


def import_layer(layer: str, data: bytes, filename: str) -> ImportReport:
    """Replace one base-map layer with the features of a file (all or nothing; flushed, not committed)."""
    if layer not in BaseLayer.labels():
        raise InvalidInput("请选择底图图层：道路、水系或地名。", {"layer": ["无效的图层"]})
    features, crs, encoding = read_features(data, filename)
    report = ImportReport(layer=layer, source_crs=crs or "未声明（按经纬度读取）", encoding=encoding)
    rows = []
    for geom, attributes in features:
        geom = shapely.force_2d(geom)
        if not geom.is_valid:
            geom = shapely.make_valid(geom)
        if layer == BaseLayer.PLACE and geom.geom_type != "Point":
            geom = geom.representative_point()
        west, south, east, north = geom.bounds
        if not (-180 <= west <= east <= 180 and -90 <= south <= north <= 90):
            raise InvalidInput("底图坐标超出经纬度范围：文件未声明坐标系（缺少 .prj），请附上 .prj 后重新导入。")
        kind = _attribute(attributes, KIND_FIELDS)[:32]
        name = _attribute(attributes, NAME_FIELDS)[:100]
        if layer == BaseLayer.PLACE and not name:
            report.skipped.append("无名称的地名点")
            continue
        rows.append(BaseMapFeature(layer=layer, kind=kind, name=name, min_zoom=min_zoom_for(layer, kind, geom),
                                   geom=from_shape(geom, srid=SRID), source_name=filename[:200],
                                   imported_at=clock.now()))
    report.replaced = db.session.execute(delete(BaseMapFeature).where(BaseMapFeature.layer == layer)).rowcount
    db.session.add_all(rows)
    db.session.flush()
    report.imported = len(rows)
    return report


def remove_layer(layer: str) -> int:
    """Delete one layer's features; how many went."""
    return db.session.execute(delete(BaseMapFeature).where(BaseMapFeature.layer == layer)).rowcount


@dataclass(frozen=True)
class LayerSummary:
    """One layer as the admin page lists it."""

    layer: str
    label: str
    features: int
    source_name: str
    imported_at: datetime | None


def summary() -> list[LayerSummary]:
    """Every layer with its feature count and the file it came from."""
    rows = {r.layer: r for r in db.session.execute(
        select(BaseMapFeature.layer, func.count().label("n"), func.max(BaseMapFeature.source_name).label("src"),
               func.max(BaseMapFeature.imported_at).label("at")).group_by(BaseMapFeature.layer))}
    return [LayerSummary(layer, label, rows[layer].n if layer in rows else 0,
                         rows[layer].src if layer in rows else "", rows[layer].at if layer in rows else None)
            for layer, label in BaseLayer.labels().items()]


def revision() -> str:
    """Changes whenever a layer is imported or removed (the wall's ETag)."""
    count, newest, last_id = db.session.execute(
        select(func.count(), func.max(BaseMapFeature.imported_at), func.max(BaseMapFeature.id))).one()
    return f"{count}-{last_id or 0}-{newest.timestamp() if newest else 0}"


def features_in_view(west: float, south: float, east: float, north: float, zoom: int) -> list[dict]:
    """GeoJSON features drawn at this zoom that touch the box, simplified to the zoom's pixel."""
    rows = db.session.execute(
        select(BaseMapFeature.id, BaseMapFeature.layer, BaseMapFeature.kind, BaseMapFeature.name, BaseMapFeature.geom)
        .where(BaseMapFeature.min_zoom <= zoom,
               in_bbox("basemap_features", BaseMapFeature.geom, BaseMapFeature.id, west, south, east, north))
        .order_by(BaseMapFeature.layer, BaseMapFeature.id)).all()
    if not rows:
        return []
    shapes = shapely.simplify(np.array([to_shape(r.geom) for r in rows]), TOLERANCE_AT_ZOOM_0 / 2 ** zoom,
                              preserve_topology=True)
    return [{"type": "Feature", "id": r.id, "geometry": mapping(geom),
             "properties": {"layer": r.layer, "kind": r.kind, "name": r.name}}
            for r, geom in zip(rows, shapes, strict=True)]
