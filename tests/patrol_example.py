"""The worked example of patrol compliance: sources in V11, V12 and V21, two inspectors and a
supervisor patrolling them in the first half of November 2026, under rules chosen so the
source classes differ. tests/test_patrol_compliance.py works every expected figure out by
hand from it; the patrol pages (tests/test_patrol_desk.py) show the same city.
"""

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from geoalchemy2.shape import from_shape
from shapely.geometry import LineString, Point

from app.extensions import db
from app.models import Patrol, PatrolCheckin, Source, User, source_cases
from app.models.vocab import Role
from app.services.settings import set_setting
from tests.factories import make_case, make_user

NOW = datetime(2026, 11, 15, 4, tzinfo=UTC)  # 2026-11-15 12:00 Beijing

# Level 3 is made stricter for key sources than for the others so the classes differ:
# key 1 in 2 days, complained-about 1 in 3, ordinary 2 in 5. Level 2 keeps the defaults:
# key 2 in 7, others 1 in 14. Over the 14 days: key 7, complained ceil(14/3) = 5,
# ordinary ceil(28/5) = 6; level 2: key ceil(28/7) = 4, others 1.
RULES = {
    "3": {"key": {"times": 1, "period_days": 2}, "complained": {"times": 1, "period_days": 3},
          "ordinary": {"times": 2, "period_days": 5}},
    "2": {"key": {"times": 2, "period_days": 7}, "complained": {"times": 1, "period_days": 14},
          "ordinary": {"times": 1, "period_days": 14}},
    "1": {"key": {"times": 1, "period_days": 7}, "complained": {"times": 1, "period_days": 7}, "ordinary": None},
}


def bj(month, day, hour=10, year=2026):
    """A Beijing wall-clock time as UTC."""
    return datetime(year, month, day, hour, tzinfo=UTC) - timedelta(hours=8)


@dataclass
class Scenario:
    """Handles on the worked example's sources, people and patrols."""

    sources: dict[str, Source] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)
    patrols: dict[str, Patrol] = field(default_factory=dict)


def add_source(code, lon, lat, city, village, is_key=False, created=None, active=True) -> Source:
    """A source in a village, registered on 1 October unless told."""
    grid = city.grids[village]
    source = Source(code=code, name=f"对象{code}", kind="factory", sector="industrial", address="测试路",
                    location=from_shape(Point(lon, lat), srid=4326), grid_id=grid.id, town_id=grid.parent_id,
                    is_key=is_key, active=active, created_at=created or bj(10, 1))
    db.session.add(source)
    db.session.flush()
    return source


def add_patrol(user, moment, metres, points) -> Patrol:
    """A closed patrol of one hour with a track."""
    patrol = Patrol(id=uuid.uuid4(), inspector_id=user.id, grid_id=user.grid_id, level=user.grid.level,
                    started_at=moment, ended_at=moment + timedelta(hours=1),
                    track=from_shape(LineString(points), srid=4326), distance_m=metres,
                    track_points=[{"lon": x, "lat": y, "at": moment.isoformat(), "accuracy_m": 8} for x, y in points],
                    content_sha256="0" * 64)
    db.session.add(patrol)
    db.session.flush()
    return patrol


def check_in(user, source, moment, outside=False, problem=False, patrol=None) -> PatrolCheckin:
    """A check-in at a source, counted for the checker's grid level."""
    point = Point(120.0 + 0.0001, 32.0) if outside else None
    checkin = PatrolCheckin(
        id=uuid.uuid4(), patrol_id=patrol.id if patrol else None, source_id=source.id, inspector_id=user.id,
        grid_id=user.grid_id, level=user.grid.level, outcome="problem_found" if problem else "nothing_found",
        location=from_shape(point, srid=4326) if point else source.location, distance_m=350.0 if outside else 12.0,
        radius_m=100.0, outside_radius=outside, content_sha256="0" * 64, captured_at=moment)
    db.session.add(checkin)
    source.last_patrol_at = max(source.last_patrol_at or moment, moment)  # as services.patrols keeps it
    return checkin


def build_scenario(city) -> Scenario:
    """The worked example (see each comment); the clock must already read NOW."""
    set_setting("patrol_rules", RULES)
    s = Scenario()
    s.users = dict(city.users)
    s.users["insp_V11b"] = make_user("insp_V11b", Role.INSPECTOR, city.grids["V11"])
    db.session.flush()
    src = s.sources
    # V11: S1 key (level-3 required 7), S2 ordinary (6), S3 complained-about (a case on
    # 1 November, within 30 days: 5), S4 ordinary registered on 10 November (judged 6 days:
    # ceil(12/5) = 3).
    src["S1"] = add_source("S1", 120.502, 32.305, city, "V11", is_key=True)
    src["S2"] = add_source("S2", 120.504, 32.305, city, "V11")
    src["S3"] = add_source("S3", 120.506, 32.305, city, "V11")
    src["S4"] = add_source("S4", 120.508, 32.305, city, "V11", created=bj(11, 10, 9))
    complaint = make_case(120.506, 32.305, received_at=bj(11, 1))
    db.session.execute(source_cases.insert().values(source_id=src["S3"].id, case_id=complaint.id))
    # V12: S5 ordinary (required 6), S6 key but inactive (not judged).
    src["S5"] = add_source("S5", 120.515, 32.305, city, "V12")
    src["S6"] = add_source("S6", 120.516, 32.305, city, "V12", is_key=True, active=False)
    # V21: S7 key (required 7).
    src["S7"] = add_source("S7", 120.525, 32.305, city, "V21", is_key=True)
    a, b, sup = s.users["insp_V11"], s.users["insp_V11b"], s.users["sup_T1"]
    track = [(120.501, 32.301), (120.505, 32.306), (120.509, 32.309)]
    p1 = s.patrols["P1"] = add_patrol(a, bj(11, 2, 9), 3200, track)
    p2 = s.patrols["P2"] = add_patrol(a, bj(11, 4, 9), 2500, track)
    p3 = s.patrols["P3"] = add_patrol(b, bj(11, 12, 9), 4150, track)
    p4 = s.patrols["P4"] = add_patrol(sup, bj(11, 11, 9), 1800, [(120.502, 32.305), (120.515, 32.305)])
    # Inspector A (V11): S1 on 2, 4, 6, 8 (twice on the 8th) and on 1 November (before the
    # period); S2 on 3 and 10; S3 on 5, outside the radius.
    check_in(a, src["S1"], bj(11, 1))
    check_in(a, src["S1"], bj(11, 2), patrol=p1)
    check_in(a, src["S1"], bj(11, 4), patrol=p2)
    for day in (6, 8):
        check_in(a, src["S1"], bj(11, day))
    check_in(a, src["S1"], bj(11, 8, 16))
    check_in(a, src["S2"], bj(11, 3))
    check_in(a, src["S2"], bj(11, 10))
    check_in(a, src["S3"], bj(11, 5), outside=True)
    # Inspector B (V11): S1 on 10, 12, 14; S2 on 12 (problem found) and 13; S4 on 11 (outside
    # the radius), 12, 13, 14; S3 on 9.
    for day in (10, 12, 14):
        check_in(b, src["S1"], bj(11, day), patrol=p3 if day == 12 else None)
    check_in(b, src["S2"], bj(11, 12, 11), problem=True, patrol=p3)
    check_in(b, src["S2"], bj(11, 13))
    check_in(b, src["S4"], bj(11, 11), outside=True)
    for day in (12, 13, 14):
        check_in(b, src["S4"], bj(11, day, 14))
    check_in(b, src["S3"], bj(11, 9))
    # Supervisor of T1 (level 2): S1 on 3 and 11 (outside the radius), S5 on 7 (problem found).
    check_in(sup, src["S1"], bj(11, 3))
    check_in(sup, src["S1"], bj(11, 11), outside=True, patrol=p4)
    check_in(sup, src["S5"], bj(11, 7), problem=True)
    # Inspector of V21: S7 on 14.
    check_in(s.users["insp_V21"], src["S7"], bj(11, 14))
    db.session.commit()
    return s
