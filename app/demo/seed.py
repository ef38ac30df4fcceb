"""``flask demo seed``: build the whole demo city (演示城市) from one seed.

Everything comes from the seed: the city boundary, 14 towns and about 300 villages that nest
exactly (``geography``), a user of every role (``people``), N cases whose mix follows
DOMAIN.md ("Categories") (``cases``) with the clocks, timeline and handling records the
lifecycle would have written (``handling``), then the source register and a month of
patrols (``sources``), the city's own base map (``basemap``) and this year's campaign
(``campaign``). The same seed gives the same grids, names, numbers, texts and
locations; times are laid out backwards from the moment of seeding.

``seed_demo_city`` is what the command (app/cli/demo.py) calls; the tests and the seeding
benchmark run the command.
"""

from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, select, text

from app.demo import bulk_load
from app.demo.basemap import build_basemap, insert_basemap
from app.demo.campaign import seed_campaign
from app.demo.cases import DemoCity, case_table, demo_city_handles, draw_cases, insert_cases
from app.demo.geography import build_geography, grid_features
from app.demo.handling import clock_table, insert_clocks, insert_timelines
from app.demo.people import demo_accounts, insert_users
from app.demo.sources import PATROL_DAYS, seed_sources
from app.demo.tables import FULL_TIMELINE_MAX
from app.extensions import db
from app.models import Case, Grid, User
from app.services import clock
from app.services.cases.departments import ensure_default_departments
from app.services.day_stats import rebuild_day_stats
from app.services.geo.grid_import import import_grids
from app.services.wall.cells import rebuild_wall_cells
from app.services.wall.open_states import take_snapshot


def insert_demo_cases(rng: np.random.Generator, count: int, city: DemoCity, now: datetime) -> int:
    """Draw ``count`` cases, insert them with their clocks and timelines; return events."""
    frame = draw_cases(rng, count, city, now)
    table = case_table(frame, bulk_load.next_id(Case) + np.arange(count))
    sqlite = db.session.get_bind().dialect.name == "sqlite"
    insert_cases(frame, table, city, sqlite)
    insert_clocks(clock_table(frame, table["id"], now, count <= FULL_TIMELINE_MAX), sqlite)
    return insert_timelines(table, frame, city.command_id, city.user_names, sqlite)


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


def seed_demo_city(case_count: int = 2000, seed: int = 42, now: datetime | None = None,
                   patrol_days: int = PATROL_DAYS) -> SeedSummary:
    """Build the demo city in the caller's transaction (flushed, not committed).

    Geography, people and cases draw from three independent streams of the seed, so the
    same seed gives the same map and logins whatever the number of cases.
    """
    # A fourth stream (the source register) and a fifth (the base map) leave the first three,
    # and so the city, unchanged.
    streams = np.random.SeedSequence(seed).spawn(5)
    geo_rng, people_rng, case_rng, source_rng, map_rng = (np.random.default_rng(s) for s in streams)
    now = now or clock.now()
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
        events = insert_demo_cases(case_rng, case_count, city, now)
        if db.engine.dialect.name == "postgresql":
            # Planner statistics for the bulk load now, not when autovacuum gets to it: without
            # them the desk queue's tab counts planned for 45,000 open cases of 396,000 at 1M
            # cases (a bitmap scan where a sequential one is right); the summaries below read
            # the cases too.
            db.session.execute(text("ANALYZE"))
        rebuild_wall_cells()
        rebuild_day_stats()
        take_snapshot(now)  # the wall's rings split by state from the first view, not the worker's first minute
    register = seed_sources(source_rng, now, patrol_days)
    insert_basemap(build_basemap(map_rng, geography))
    seed_campaign(now)
    return SeedSummary(len(geography.towns), len(geography.villages), len(accounts), case_count, events,
                       register.sources, register.patrols)
