"""The demo city's source register and the campaign's patrols (app.demo.sources): plausible,
consistent with the grids, the inspectors, the patrol rules and the cases, and usable through the API."""

from collections import Counter

import numpy as np
import pytest
import shapely
from geoalchemy2.shape import to_shape
from sqlalchemy import func, select

from app.extensions import db
from app.models import Case, Grid, Patrol, PatrolCheckin, Source, User, source_cases
from app.models.vocab import Role
from app.services import clock
from app.services.geo.spatial import distance_m
from app.services.patrols.compliance import compliance
from app.services.patrols.sources import SECTOR_OF_KIND


def test_seeded_register_and_patrols_are_consistent(app, auth):
    # `flask demo seed` fills the register and the campaign's patrols with the city.
    now = clock.now()
    result = app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "400"])
    assert result.exit_code == 0, result.output

    villages = {g.id: g for g in db.session.scalars(select(Grid).where(Grid.level == 3))}
    sources = db.session.scalars(select(Source)).all()
    per_village = Counter(s.grid_id for s in sources)
    assert set(per_village) == set(villages) and all(5 <= n <= 8 for n in per_village.values())
    for source in sources:
        village = villages[source.grid_id]
        assert to_shape(village.geom).covers(to_shape(source.location)), source.code
        assert source.town_id == village.parent_id and source.code.startswith("JG")
        assert source.sector == SECTOR_OF_KIND[source.kind]
        assert (source.permit_number is not None) == (source.kind == "factory")
    assert len({s.code for s in sources}) == len(sources)
    assert 0.10 < sum(s.is_key for s in sources) / len(sources) < 0.22
    factory = next(s for s in sources if s.permit_number)
    assert len(factory.permit_number) == 22 and factory.permit_number.endswith("001P")

    checkins = db.session.scalars(select(PatrolCheckin)).all()
    assert len(checkins) > 5 * len(villages)
    # Each check-in counts for its checker's own grid: a village's inspector (level 3), or the
    # town supervisor of the source's town (level 2).
    staff = {user_id: (role, grid_id) for user_id, role, grid_id in db.session.execute(
        select(User.id, User.role, User.grid_id))}
    by_id = {s.id: s for s in sources}
    assert {c.level for c in checkins} == {2, 3}
    for c in checkins:
        role, grid_id = staff[c.inspector_id]
        assert grid_id == c.grid_id
        assert (role, c.grid_id) == ((Role.INSPECTOR, by_id[c.source_id].grid_id) if c.level == 3
                                     else (Role.SUPERVISOR, by_id[c.source_id].town_id))
    outside = sum(c.outside_radius for c in checkins) / len(checkins)
    assert 0.02 < outside < 0.09
    assert all(c.outside_radius == (c.distance_m > c.radius_m) for c in checkins)
    latest = dict(db.session.execute(select(PatrolCheckin.source_id, func.max(PatrolCheckin.captured_at))
                                     .group_by(PatrolCheckin.source_id)).all())
    assert all(s.last_patrol_at == latest.get(s.id) for s in sources)
    assert all(now - s.last_patrol_at < np.timedelta64(14, "D").item() for s in sources)

    patrol = db.session.scalars(select(Patrol)).first()
    track = to_shape(patrol.track)
    assert isinstance(track, shapely.LineString) and len(patrol.track_points) == len(track.coords)
    assert patrol.ended_at > patrol.started_at and patrol.distance_m > 0

    links = db.session.execute(select(source_cases.c.source_id, Case.grid_id, Case.id)
                               .join(Case, Case.id == source_cases.c.case_id)).all()
    assert len(links) > 0.05 * len(sources)
    assert all(by_id[source_id].grid_id == grid_id for source_id, grid_id, _ in links)
    problems = [c for c in checkins if c.case_id is not None]
    assert problems and all(c.outcome == "problem_found" for c in problems)

    assert auth.login("town01", "firstline2026").status_code == 200
    town = db.session.scalar(select(Grid).where(Grid.code == "HX01"))
    client_page = auth._client.get("/api/v1/sources?per_page=200").get_json()
    assert client_page["meta"]["total"] == sum(1 for s in sources if s.town_id == town.id)


def test_seeded_patrols_keep_the_rules_with_laggards(app):
    # Over the running campaign the demo city mostly keeps both levels' patrol duty, with a few
    # late sources and laggard grids to show; every patrol's length is its track's.
    assert app.test_cli_runner().invoke(args=["demo", "seed", "--cases", "200"]).exit_code == 0
    command = db.session.scalar(select(User).where(User.username == "command"))
    report = compliance(command, None, None)
    level3, level2 = report["totals"], report["totals"]["level2"]
    assert 0.85 < level3["rate"] < 0.99 and 0 < level3["overdue"] < 0.15 * level3["sources"]
    assert 0.9 < level2["rate"] <= 0.999 and level2["required"] > 0
    assert min(t["rate"] for t in report["towns"]) < max(t["rate"] for t in report["towns"])
    for patrol in db.session.scalars(select(Patrol).limit(50)):
        steps = zip(patrol.track_points, patrol.track_points[1:], strict=False)
        assert patrol.distance_m == pytest.approx(sum(distance_m(a["lon"], a["lat"], b["lon"], b["lat"])
                                                      for a, b in steps), abs=0.2)
