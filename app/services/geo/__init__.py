"""Geography: coordinates, distances and grids.

Owns conversion between WGS-84, GCJ-02 and BD-09 (``coords``), distances and boxes
(``spatial``), point → level-3 grid (``grid_locator``), grid import and validation
(``grid_import``) and grids as GeoJSON (``grid_geojson``).
"""
