"""Placing a report by the place names in its address (地址定位), for reports that come
without coordinates (an Open311 client may send only ``address_string``).

A grid is named in an address when its name appears in it whole ("东镇建设路" names 东镇,
"V11村工业路8号" names V11村). A village named once (or once inside a town the address
also names) places the report at a point inside that village; a town alone gives the town
but no point, because any point would put the case in one of its villages by guess.
Anything else (no name, or names that do not settle on one grid) places nothing.
"""

from dataclasses import dataclass

from geoalchemy2.shape import to_shape
from sqlalchemy import select

from app.extensions import db
from app.models import Grid
from app.services.geo.grid_locator import get_locator


@dataclass(frozen=True)
class AddressPlace:
    """What an address settles: a town, and a village with a point inside it when named."""

    town_id: int
    grid_name: str
    point: tuple[float, float] | None


def city_name() -> str:
    """The city's name as its top-level grid (level 1) calls it; empty before grids are imported."""
    return db.session.scalar(select(Grid.name).where(Grid.level == 1).order_by(Grid.id).limit(1)) or ""


def point_names(points: list[tuple[float, float]]) -> list[str]:
    """「镇（街道）村（社区）」 of each point (alerts' centres), or why there is none; two reads
    however many points."""
    locator = get_locator()
    hits = [locator.locate(lon, lat) for lon, lat in points]
    ids = {i for hit in hits if hit for i in (hit.town_id, hit.grid_id)}
    names = dict(db.session.execute(select(Grid.id, Grid.name).where(Grid.id.in_(ids))).all()) if ids else {}
    return [f"{names.get(hit.town_id, '')}{names.get(hit.grid_id, '')}" if hit else "市域外或网格间隙"
            for hit in hits]


def town_names() -> dict[int, str]:
    """Every town's name by id: village names repeat across towns (中心社区), so a village
    shown without its town cannot be told apart."""
    return dict(db.session.execute(select(Grid.id, Grid.name).where(Grid.level == 2)).all())


def place_by_address(address: str) -> AddressPlace | None:
    """The grid an address names (see the module docstring), or None."""
    text = (address or "").strip()
    if not text:
        return None
    named = db.session.execute(select(Grid.id, Grid.name, Grid.level, Grid.parent_id)
                               .where(Grid.level.in_((2, 3)))).all()
    named = [row for row in named if row.name and row.name in text]
    towns = {row.id: row for row in named if row.level == 2}
    villages = [row for row in named if row.level == 3]
    if towns:
        villages = [row for row in villages if row.parent_id in towns] or villages
    if len(villages) == 1:
        village = db.session.get(Grid, villages[0].id)
        inside = to_shape(village.geom).representative_point()
        return AddressPlace(village.parent_id, village.name, (inside.x, inside.y))
    candidate_towns = set(towns) or {row.parent_id for row in villages}
    if len(candidate_towns) == 1:
        town = db.session.get(Grid, candidate_towns.pop())
        return AddressPlace(town.id, town.name, None) if town is not None else None
    return None
