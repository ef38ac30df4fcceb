"""The demo city's cases: N complaints drawn as numpy columns and written in bulk.

Each case gets a kind of complaint by the 12369 hotline shares (DOMAIN.md, "Categories"), a
channel, a status and how far along the chain of steps it got, times laid out backwards from
the moment of seeding (so open cases are due around "now" whenever the demo is built, in
every colour of the map), a place (clustered round the industrial parks, a few just outside
the city), repeat petitions of earlier cases, the difficult-case flags, the people who
handle it and a synthetic petitioner.

Speed matters (a million cases in minutes): every column is drawn in one vectorised call,
primary keys are assigned here so links need no round-trip, and rows go to the driver in
batches (``bulk_load``). The clocks, timeline and handling records of the drawn cases are
``handling``'s.
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import shapely
from shapely.geometry import Polygon
from sqlalchemy import select

from app.demo import bulk_load
from app.demo.geography import Geography, points_beyond, points_inside
from app.demo.handling import clock_arrays, due_columns, to_times
from app.demo.people import full_names, id_numbers, mobile_numbers
from app.demo.tables import (
    ABOVE_LEVEL_CHANNELS,
    ACCEPT,
    ASSIGN,
    BRANDS,
    CATEGORIES,
    CATEGORY_SHARES,
    CHAIN,
    CHANNEL_WEIGHTS,
    CHANNELS,
    CLOSE,
    COLOUR_SHARES,
    DEFAULT_CHANNEL_WEIGHT,
    DEPTH,
    FOLLOW_UP,
    HALF_SIZE,
    INSPECTION_CHANNELS,
    KINDS,
    LEADER_COUNT,
    ONSITE,
    PETITION_CHANNELS,
    RED_USED,
    REOPENED_SHARE_OF_HANDLING,
    REPEATABLE_CHANNELS,
    REPLY,
    RIVERS,
    ROADS,
    SECTOR_SOURCES,
    SECTORS,
    SIDE_STEPS,
    SIGN,
    SPREAD_FROM,
    STATUS_WEIGHTS,
    STATUSES,
    TRANSFER_TARGETS,
    YELLOW_USED,
    CaseKind,
    index_of,
)
from app.extensions import db
from app.models import Case, SectorRoute
from app.models.types import SRID
from app.models.vocab import (
    CaseStatus,
    Category,
    Channel,
    CoordSystem,
    InspectionReferral,
    LegalTrack,
    ListKind,
    Priority,
    Sector,
)
from app.services.cases.numbering import format_case_number, reserve_case_numbers
from app.services.geo.grid_locator import GridLocator, get_locator

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


def _draw_kinds(rng: np.random.Generator, count: int) -> dict:
    """Kind of complaint (category and subcategory) by the 12369 shares, and a sector that
    fits the kind (catering fumes come from restaurants, construction noise from sites)."""
    kind = _choose(rng, count, [CATEGORY_SHARES[k.category] * k.share for k in KINDS])
    sector = np.zeros(count, dtype=np.int64)
    for k, case_kind in enumerate(KINDS):
        mask = kind == k
        options = index_of(SECTORS, list(case_kind.sectors))
        sector[mask] = options[_choose(rng, int(mask.sum()), list(case_kind.sectors.values()), cover=False)]
    return {"kind": kind, "sector": sector}


def _draw_channels(rng: np.random.Generator, count: int) -> dict:
    """How each case arrived, and which inspection referred it (central ones split between
    the first round and the follow-up "回头看")."""
    channel = _choose(rng, count, [CHANNEL_WEIGHTS.get(c, DEFAULT_CHANNEL_WEIGHT) for c in CHANNELS])
    referral = np.full(count, None, dtype=object)
    followup = rng.random(count) < 0.3
    for inspection in INSPECTION_CHANNELS:
        referral[channel == CHANNELS.index(inspection)] = str(inspection.inspection_referral)
    central = channel == CHANNELS.index(Channel.CENTRAL_INSPECTION)
    referral[central & followup] = str(InspectionReferral.CENTRAL_FOLLOWUP)
    return {"channel": channel, "inspection_referral": referral}


def _draw_statuses(rng: np.random.Generator, channel: np.ndarray) -> dict:
    """Where each case stands now, and how far along the chain of steps it got.

    An inspection referral is never declined or sent to another channel (the city must
    handle what the inspectors refer), so those redraw. A quarter of the cases in handling
    were reopened by a dissatisfied follow-up: they went through reply, review and
    follow-up before coming back (services.lifecycle.record_follow_up).
    """
    status = _choose(rng, len(channel), [STATUS_WEIGHTS[s] for s in STATUSES])
    refused = index_of(STATUSES, [CaseStatus.DECLINED, CaseStatus.TRANSFERRED])
    redraw = np.isin(channel, index_of(CHANNELS, INSPECTION_CHANNELS)) & np.isin(status, refused)
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
    petition = np.isin(channel, index_of(CHANNELS, PETITION_CHANNELS))
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


def _draw_times(rng: np.random.Generator, frame: dict, now: datetime) -> dict:
    """Every timestamp of every case and its clocks, consistent with its steps and never
    after ``now``."""
    times = _draw_milestones(rng, frame["depth"], frame["status"])
    times.update(clock_arrays(frame, times))
    ago = _draw_received(rng, {**frame, **times}, now)
    now64 = np.datetime64(now.astimezone(UTC).replace(tzinfo=None), "us")
    received = now64 - (ago * 3.6e9).astype(np.int64).astype("timedelta64[us]")
    patrol = frame["channel"] == CHANNELS.index(Channel.GRID_PATROL)
    registered_hours = np.where(patrol, 0.0, rng.uniform(1 / 60, 10 / 60, len(ago)))
    times.update(
        received_at=received,
        registered_at=to_times(received, registered_hours),
        milestone_at=to_times(received, times["milestone_hours"]),
        side_at=to_times(received, times["side_hours"]),
        last_at=to_times(received, times["last_hours"]),
    )
    return times


def _draw_locations(rng: np.random.Generator, frame: dict, city: DemoCity) -> dict:
    """Where each case is: industrial-type sources mostly in the industrial parks (Gaussian
    clusters), others anywhere in the city, and ~0.2 % just outside the boundary."""
    count = len(frame["kind"])
    xy = points_inside(rng, city.outline, count)
    industrial = np.isin(frame["sector"], index_of(SECTORS, [Sector.INDUSTRIAL, Sector.OUTDATED_CAPACITY]))
    clustered = rng.random(count) < np.where(industrial, 0.75, 0.35)
    park = rng.integers(0, len(city.hotspots), count)
    spread = rng.uniform(0.006, 0.015, len(city.hotspots))[park]
    near = city.hotspots[park] + rng.normal(size=(count, 2)) * spread[:, None] * (HALF_SIZE / HALF_SIZE[1])
    clustered &= shapely.contains_xy(city.outline, near[:, 0], near[:, 1])
    xy[clustered] = near[clustered]
    outside = np.zeros(count, dtype=bool)
    candidates = np.flatnonzero(frame["channel"] != CHANNELS.index(Channel.GRID_PATROL))
    beyond = rng.choice(candidates, size=min(len(candidates), max(1, round(0.002 * count))), replace=False)
    xy[beyond] = points_beyond(rng, city.outline, len(beyond))
    outside[beyond] = True
    return {"lon": xy[:, 0], "lat": xy[:, 1], "planned_outside": outside}


# The share of above-level petitions that repeat an earlier case (on top of the ~5 % of all).
ABOVE_LEVEL_REPEAT_SHARE = 1 / 3


def _pick_originals(rng: np.random.Generator, frame: dict) -> np.ndarray:
    """For ~5 % of petitions, and a third of the above-level ones (a petitioner goes up when
    the matter was not settled below), an earlier case of the same category they repeat
    (recent ones likelier); -1 for the rest. Rows are in order of receipt, so earlier means lower."""
    count = len(frame["kind"])
    category = np.array([CATEGORIES.index(k.category) for k in KINDS])[frame["kind"]]
    inside = ~frame["planned_outside"]
    eligible = np.flatnonzero(np.isin(frame["channel"], index_of(CHANNELS, REPEATABLE_CHANNELS)) & inside)
    picks = rng.choice(eligible, size=min(len(eligible), round(0.05 * count)), replace=False)
    going_up = np.isin(frame["channel"][eligible], index_of(CHANNELS, ABOVE_LEVEL_CHANNELS))
    picks = np.union1d(picks, eligible[going_up & (rng.random(len(eligible)) < ABOVE_LEVEL_REPEAT_SHARE)])
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
    """The difficult-case flags (DOMAIN.md item 10): above-level, dissatisfied ~3 % (the
    reopened cases), superior-assigned ~2 %, suspected crime ~1 %, urgent ~8 %.

    The above-level and repeat counts are those the lifecycle keeps (``cases.repeats``), so
    they agree with the assessment, which deducts per above-level petition: a case counts one
    above-level visit when it came in on an above-level channel, and one more for every
    above-level petition that repeats it later; 「越级 3 次」 is three petitions, each deducted.
    ``repeat_count`` counts the petitions that repeat a case, so a repeated matter is never
    resolved first time (一次化解)."""
    count, channel = len(frame["kind"]), frame["channel"]
    patrol = channel == CHANNELS.index(Channel.GRID_PATROL)
    via_above = np.isin(channel, index_of(CHANNELS, ABOVE_LEVEL_CHANNELS))
    repeat_of = frame["repeat_of"]
    repeats = repeat_of >= 0
    times_above = via_above + np.bincount(repeat_of[repeats & via_above], minlength=count)
    category = np.array([CATEGORIES.index(k.category) for k in KINDS])[frame["kind"]]
    crime_pool = np.isin(frame["sector"], index_of(SECTORS, [Sector.INDUSTRIAL, Sector.OUTDATED_CAPACITY])) & (
        category != CATEGORIES.index(Category.NOISE)
    )
    crime = crime_pool & (rng.random(count) < _rate(0.01 * count, crime_pool.sum()))
    above = times_above > 0
    serious = above | (frame["inspection_referral"] != None) | crime  # noqa: E711
    return {
        "above_level": above,
        "above_level_count": times_above,
        "repeat_count": np.bincount(repeat_of[repeats], minlength=count),
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


# Columns the frame already holds in their final form.
_COPIED_COLUMNS = (
    "grid_id", "town_id", "discovered_by_grid_id", "department_id", "responsible_person_id",
    "leading_official_id", "assigned_by_id", "transferred_to", "transfer_reason", "created_by_id",
    "inspection_referral", "anonymous", "petitioner_name", "petitioner_phone", "petitioner_id_number",
    "above_level", "above_level_count", "repeat_count", "dissatisfied", "superior_assigned", "suspected_crime",
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
        **due_columns(frame),
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


def insert_cases(frame: dict, table: dict, city: DemoCity, sqlite: bool) -> None:
    """Number the drawn cases and write them in batches (texts and geometry built per batch)."""
    numbers = _case_numbers(frame["registered_at"])
    with bulk_load.bulk_load(Case.__table__):
        for rows in bulk_load.batches(len(table["id"])):
            bulk_load.bulk_insert(Case.__table__, *_case_rows(table, frame, rows, city, numbers, sqlite))
    bulk_load.advance_sequence(Case.__table__)
