"""The demo city's people: the demo logins, and synthetic names, mobile and ID numbers.

The name and number makers are shared by everything the demo draws people for (accounts,
petitioners, the source register's responsible persons), so they sit here, below the case
generator and the register, which both import them.
"""

from dataclasses import dataclass

import numpy as np
from sqlalchemy import insert
from werkzeug.security import generate_password_hash

from app.demo import bulk_load
from app.demo.geography import Geography
from app.demo.tables import (
    CITY_CODE,
    CITY_NAME,
    COMMAND_UNIT,
    GIVEN_CHARS,
    ID_CHECK_CHARS,
    ID_REGIONS,
    ID_WEIGHTS,
    LEADER_COUNT,
    MOBILE_PREFIXES,
    SURNAMES,
)
from app.extensions import db
from app.models import User
from app.models.vocab import Role

DEMO_PASSWORD = "firstline2026"

# (username, role, what they see): the README's "Demo logins" table quotes this list.
DEMO_LOGINS = [
    ("admin", f"{Role.ADMIN.label} admin", "every case, petitioner data masked"),
    ("command", f"{Role.COMMAND_OFFICE.label} command office", "every case, petitioner data in full"),
    ("town01 … town14", "二级网格 town supervisor", "cases in their town"),
    (
        "g01001a, g01001b …",
        "三级网格员 inspector (two per village: town 01, village 001)",
        "cases in their village, name and phone masked",
    ),
    (
        "dept_env, dept_urban, dept_agri, dept_transport, dept_port, dept_ndrc, dept_police",
        "职能部门 department officer",
        "cases routed to their department",
    ),
    ("leader1 … leader3", f"{Role.LEADING_OFFICIAL.label} leading official", "the cases they lead"),
]


def full_names(rng: np.random.Generator, count: int) -> list[str]:
    """Synthetic Chinese names: a common surname (the commoner the likelier) and one or two
    given characters."""
    weights = 1 / (np.arange(len(SURNAMES)) + 5)
    surnames = rng.choice(len(SURNAMES), size=count, p=weights / weights.sum())
    given = rng.integers(0, len(GIVEN_CHARS), size=(count, 2))
    two = rng.random(count) < 0.7
    return [
        SURNAMES[s] + GIVEN_CHARS[g[0]] + (GIVEN_CHARS[g[1]] if t else "")
        for s, g, t in zip(surnames.tolist(), given.tolist(), two.tolist(), strict=True)
    ]


def mobile_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Synthetic 11-digit mainland mobile numbers."""
    prefixes = rng.integers(0, len(MOBILE_PREFIXES), count).tolist()
    rest = rng.integers(0, 100_000_000, count).tolist()
    return [f"{MOBILE_PREFIXES[p]}{r:08d}" for p, r in zip(prefixes, rest, strict=True)]


def id_numbers(rng: np.random.Generator, count: int) -> list[str]:
    """Synthetic 18-digit resident ID numbers (GB 11643): region, birth date 1950-2004,
    sequence, and a correct check digit, so validators in the app accept them."""
    regions = rng.integers(0, len(ID_REGIONS), count).tolist()
    births = np.datetime64("1950-01-01") + rng.integers(0, 20_000, count).astype("timedelta64[D]")
    dates = np.char.replace(np.datetime_as_string(births, unit="D"), "-", "").tolist()
    sequences = rng.integers(0, 1000, count).tolist()
    bodies = [f"{ID_REGIONS[r]}{d}{s:03d}" for r, d, s in zip(regions, dates, sequences, strict=True)]
    if not bodies:
        return []
    digits = np.frombuffer("".join(bodies).encode("ascii"), dtype=np.uint8).reshape(count, 17) - 48
    checks = (digits.astype(np.int64) @ ID_WEIGHTS) % 11
    return [body + ID_CHECK_CHARS[c] for body, c in zip(bodies, checks.tolist(), strict=True)]


@dataclass(frozen=True)
class Account:
    """One demo login before it has an id."""

    username: str
    role: Role
    grid_code: str | None
    department_code: str | None
    unit: str


def demo_accounts(geography: Geography, department_names: dict[str, str]) -> list[Account]:
    """Every demo login (see DEMO_LOGINS): admin, command office, a supervisor per town, two
    inspectors per village, an officer per department and three leading officials."""
    accounts = [
        Account("admin", Role.ADMIN, None, None, "市大数据管理中心"),
        Account("command", Role.COMMAND_OFFICE, CITY_CODE, None, COMMAND_UNIT),
    ]
    accounts += [Account(f"town{t.code[2:]}", Role.SUPERVISOR, t.code, None, t.name) for t in geography.towns]
    accounts += [
        Account(f"g{v.code[2:4]}{v.code[5:]}{suffix}", Role.INSPECTOR, v.code, None, v.name)
        for v in geography.villages
        for suffix in "ab"
    ]
    accounts += [
        Account(f"dept_{code}", Role.DEPARTMENT_OFFICER, None, code, name) for code, name in department_names.items()
    ]
    accounts += [
        Account(f"leader{k}", Role.LEADING_OFFICIAL, None, None, f"{CITY_NAME}人民政府")
        for k in range(1, LEADER_COUNT + 1)
    ]
    return accounts


def insert_users(rng: np.random.Generator, accounts: list[Account], grid_ids: dict, department_ids: dict) -> dict:
    """Insert the accounts with one shared password hash; return (id, full name) by username.

    The demo password is hashed once and the string reused: hashing is slow on purpose
    (tens of milliseconds), so hundreds of separate hashes would take minutes.
    """
    first_id = bulk_load.next_id(User)
    password_hash = generate_password_hash(DEMO_PASSWORD)
    names, phones = full_names(rng, len(accounts)), mobile_numbers(rng, len(accounts))
    rows = [
        {
            "id": first_id + k,
            "username": a.username,
            "password_hash": password_hash,
            "full_name": names[k],
            "role": str(a.role),
            "grid_id": grid_ids.get(a.grid_code),
            "department_id": department_ids.get(a.department_code),
            "phone": phones[k],
            "unit": a.unit,
        }
        for k, a in enumerate(accounts)
    ]
    db.session.execute(insert(User.__table__), rows)
    bulk_load.advance_sequence(User.__table__)
    return {a.username: (first_id + k, names[k]) for k, a in enumerate(accounts)}
