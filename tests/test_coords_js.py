"""static/js/coords.js gives the same points as app/services/coords.py.

The wall map draws stored WGS-84 points on a GCJ-02 or BD-09 base map with the JS copy; if
the two drifted apart, a case would sit in one place on the map and another in the API. The
JS runs under node on the same points and must agree to SAME_DEG (about 0.1 mm).
"""

import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from app.services.geo import coords

pytestmark = pytest.mark.skipif(
    shutil.which("node") is None, reason="node is not installed, so static/js/coords.js cannot be run"
)

COORDS_JS = Path(__file__).resolve().parent.parent / "static" / "js" / "coords.js"
SAME_DEG = 1e-9
PAIRS = {
    "wgs84ToGcj02": coords.wgs84_to_gcj02,
    "gcj02ToWgs84": coords.gcj02_to_wgs84,
    "gcj02ToBd09": coords.gcj02_to_bd09,
    "bd09ToGcj02": coords.bd09_to_gcj02,
    "wgs84ToBd09": coords.wgs84_to_bd09,
    "bd09ToWgs84": coords.bd09_to_wgs84,
}
CITY = [(float(lon), float(lat)) for lon in np.linspace(120.07, 121.07, 6) for lat in np.linspace(31.89, 32.89, 6)]
# Published reference points (see test_coords.py), places abroad, and the box's corners.
OTHERS = [
    (121.5272106, 31.1774276),
    (113.912316, 22.543847),
    (116.404, 39.915),
    (120.026268, 30.279164),
    (2.3522, 48.8566),
    (139.6917, 35.6895),
    (72.004, 0.8293),
    (137.8347, 55.8271),
    (180.0, 90.0),
]
POINTS = CITY + OTHERS

CONVERT_ALL = """
import * as coords from %(module)s;
const points = %(points)s;
const out = {};
for (const name of %(names)s) out[name] = points.map(([lon, lat]) => coords[name](lon, lat));
for (const system of ["wgs84", "gcj02", "bd09"]) {
  out["to:" + system] = points.map(([lon, lat]) => coords.toWgs84(lon, lat, system));
  out["from:" + system] = points.map(([lon, lat]) => coords.fromWgs84(lon, lat, system));
}
out.inChina = points.map(([lon, lat]) => coords.inChina(lon, lat));
console.log(JSON.stringify(out));
"""

REFUSALS = """
import { toWgs84, fromWgs84 } from %(module)s;
const out = [];
for (const [lon, lat, system] of %(cases)s) {
  for (const convert of [toWgs84, fromWgs84]) {
    try { convert(lon, lat, system); out.push(null); } catch (e) { out.push([e.name, e.message]); }
  }
}
console.log(JSON.stringify(out));
"""


def run_node(script: str) -> object:
    """Run an ES-module script under node and parse the JSON it prints."""
    done = subprocess.run(
        ["node", "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.fixture(scope="module")
def js_results() -> dict:
    """Every JS conversion of every point, computed in one node run."""
    script = CONVERT_ALL % {
        "module": json.dumps(COORDS_JS.as_uri()),
        "points": json.dumps(POINTS),
        "names": json.dumps(list(PAIRS)),
    }
    return run_node(script)


@pytest.mark.parametrize("js_name", list(PAIRS))
def test_js_conversions_match_python(js_results, js_name):
    """Each pairwise conversion gives the same point in the browser and on the server."""
    for point, js_point in zip(POINTS, js_results[js_name], strict=True):
        assert js_point == pytest.approx(PAIRS[js_name](*point), abs=SAME_DEG), point


@pytest.mark.parametrize("system", ["wgs84", "gcj02", "bd09"])
def test_js_system_dispatch_matches_python(js_results, system):
    """toWgs84/fromWgs84 pick the same conversion as to_wgs84/from_wgs84 for each system."""
    for point, to_js, from_js in zip(POINTS, js_results["to:" + system], js_results["from:" + system], strict=True):
        assert to_js == pytest.approx(coords.to_wgs84(*point, system), abs=SAME_DEG), point
        assert from_js == pytest.approx(coords.from_wgs84(*point, system), abs=SAME_DEG), point


def test_js_china_box_matches_python(js_results):
    """The browser and the server agree on which points are offset at all."""
    assert js_results["inChina"] == [coords.in_china(*point) for point in POINTS]


def test_js_refuses_what_python_refuses():
    """Unknown systems and points off the globe throw a RangeError with a Chinese message."""
    cases = [[120.57, 32.39, "cgcs2000"], [180.5, 32.39, "gcj02"], [120.57, -91.0, "bd09"], [120.57, 32.39, "gcj02"]]
    script = REFUSALS % {"module": json.dumps(COORDS_JS.as_uri()), "cases": json.dumps(cases)}
    results = run_node(script)
    refused = results[:6]
    assert all(r is not None and r[0] == "RangeError" for r in refused)
    assert "未知的坐标系" in refused[0][1]
    assert all("坐标超出范围" in r[1] for r in refused[2:])
    assert results[6:] == [None, None]


def test_js_refuses_nan():
    """NaN from an empty form field is refused, not drawn at a nonsense place."""
    script = REFUSALS % {"module": json.dumps(COORDS_JS.as_uri()), "cases": "[[NaN, 32.39, 'wgs84']]"}
    assert [r[0] for r in run_node(script)] == ["RangeError", "RangeError"]
