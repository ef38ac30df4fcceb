"""The city's own base map (底图): roads, water and place names imported from the files a
natural-resources bureau gives (GeoJSON, Shapefile, GeoPackage), so the wall has a map in a
closed network without any tile server."""

from datetime import datetime

from geoalchemy2 import Geometry
from sqlalchemy import Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.types import SRID, UTCDateTime, utcnow


class BaseMapFeature(db.Model):
    """One road, river, lake or named place, in WGS-84, with the zoom it is drawn from."""

    __tablename__ = "basemap_features"

    id: Mapped[int] = mapped_column(primary_key=True)
    layer: Mapped[str] = mapped_column(String(16), index=True)
    # The feature's class as the file gives it (高速, primary, 河流 …), shown in the legend.
    kind: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(100), default="")
    # Drawn from this zoom on: trunk roads and rivers at city scale, lanes only close up.
    min_zoom: Mapped[int] = mapped_column(Integer, default=12)
    geom = mapped_column(Geometry("GEOMETRY", srid=SRID, spatial_index=True), nullable=False)
    # The file it came from: a new import of the same layer replaces the old one.
    source_name: Mapped[str] = mapped_column(String(200), default="")
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
