"""When a source is next due for patrol: hand-written patrol histories across grid levels and
source classes, Beijing-date boundaries, and the rules edited on the admin settings page."""

import json
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from geoalchemy2.shape import from_shape
from shapely.geometry import Point
from sqlalchemy import insert, select

from app.extensions import db
from app.models import AdminAuditEntry, PatrolCheckin, Source, source_cases
from app.services import clock
from app.services.patrols import rounds
from app.services.patrols.rules import checkin_level, due_state
from app.services.settings import get_setting, set_setting
from tests.factories import make_case
from tests.page_client import PageClient

BEIJING = ZoneInfo("Asia/Shanghai")
REGISTERED = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def bj(day: date, hour: int = 12, minute: int = 0) -> datetime:
    """A Beijing wall-clock time on a day, as an aware datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=BEIJING)


def noon(day: date) -> datetime:
    """Midday in Beijing: the moment 'now' stands on for a day."""
    return bj(day)


def make_source(city, is_key: bool = False, registered: datetime = REGISTERED, code: str = "S1") -> Source:
    """A source in village V11, registered long before the histories below unless told."""
    source = Source(code=code, name="测试对象", kind="factory", sector="industrial",
                    location=from_shape(Point(120.505, 32.31), srid=4326), grid_id=city.grids["V11"].id,
                    town_id=city.grids["T1"].id, is_key=is_key, created_at=registered)
    db.session.add(source)
    db.session.commit()
    return source


def patrolled(city, source: Source, at: datetime, level: int, username: str = "insp_V11") -> None:
    """A check-in at the source counted for a level, written as the sync would store it."""
    db.session.add(PatrolCheckin(
        id=uuid.uuid4(), source_id=source.id, inspector_id=city.users[username].id,
        grid_id=city.users[username].grid_id, level=level, outcome="nothing_found", radius_m=100,
        content_sha256="hand-written", captured_at=at))
    db.session.commit()


def state(source: Source, level: int, day: date) -> tuple[str, str | None]:
    """(state, due date) of a source for a level at noon on a Beijing day."""
    found = due_state(source, level, noon(day))
    return found.state, found.due_on.isoformat() if found.due_on else None


D = date(2026, 11, 10)


def test_level_3_ordinary_every_2_days(city):
    source = make_source(city)
    patrolled(city, source, bj(D, 9), level=3)
    assert state(source, 3, D) == ("ok", "2026-11-12")
    assert state(source, 3, D + timedelta(days=1)) == ("ok", "2026-11-12")
    assert state(source, 3, D + timedelta(days=2)) == ("due", "2026-11-12")
    assert state(source, 3, D + timedelta(days=3)) == ("overdue", "2026-11-12")
    assert due_state(source, 3, noon(D + timedelta(days=3))).days_overdue(D + timedelta(days=3)) == 1


def test_level_2_key_twice_a_week_counts_the_second_latest_patrol(city):
    source = make_source(city, is_key=True)
    monday, thursday = date(2026, 11, 23), date(2026, 11, 26)
    assert monday.isoweekday() == 1 and thursday.isoweekday() == 4
    patrolled(city, source, bj(monday, 10), level=2, username="sup_T1")
    patrolled(city, source, bj(thursday, 15), level=2, username="sup_T1")
    assert state(source, 2, date(2026, 11, 29)) == ("ok", "2026-11-30")
    assert state(source, 2, date(2026, 11, 30)) == ("due", "2026-11-30")
    assert state(source, 2, date(2026, 12, 1)) == ("overdue", "2026-11-30")
    found = due_state(source, 2, noon(date(2026, 11, 29)))
    assert found.source_class == "key" and found.rule.label == "每7天2次"
    assert found.patrol_days == (thursday, monday)
    patrolled(city, source, bj(date(2026, 11, 30), 9), level=2, username="sup_T1")
    assert state(source, 2, date(2026, 11, 30)) == ("ok", "2026-12-03")


def test_level_2_ordinary_every_14_days(city):
    source = make_source(city)
    patrolled(city, source, bj(D, 16), level=2, username="sup_T1")
    assert state(source, 2, D + timedelta(days=13)) == ("ok", "2026-11-24")
    assert state(source, 2, D + timedelta(days=14)) == ("due", "2026-11-24")
    assert state(source, 2, D + timedelta(days=15)) == ("overdue", "2026-11-24")


def test_level_1_key_weekly_and_ordinary_not_required(city):
    key, ordinary = make_source(city, is_key=True, code="K"), make_source(city, code="O")
    patrolled(city, key, bj(D), level=1)
    patrolled(city, ordinary, bj(D), level=1)
    assert state(key, 1, D + timedelta(days=7)) == ("due", "2026-11-17")
    assert state(key, 1, D + timedelta(days=8)) == ("overdue", "2026-11-17")
    assert state(ordinary, 1, D + timedelta(days=30)) == ("not_required", None)
    assert due_state(ordinary, 1, noon(D)).as_dict(D)["rule"] is None


def test_complained_about_source_is_weekly_at_level_1_within_the_window(city):
    source = make_source(city)
    case = make_case(120.505, 32.31, received_at=noon(D) - timedelta(days=10))
    db.session.execute(insert(source_cases).values(source_id=source.id, case_id=case.id))
    db.session.commit()
    patrolled(city, source, bj(D - timedelta(days=3)), level=1)
    found = due_state(source, 1, noon(D))
    assert found.source_class == "complained" and (found.state, found.due_on) == ("ok", date(2026, 11, 14))
    # Forty days after the complaint the source is ordinary again: level 1 has no duty.
    assert due_state(source, 1, noon(D + timedelta(days=30))).state == "not_required"
    set_setting("patrol_complained_days", 60)
    assert due_state(source, 1, noon(D + timedelta(days=30))).source_class == "complained"


def test_key_class_wins_over_complained(city):
    source = make_source(city, is_key=True)
    case = make_case(120.505, 32.31, received_at=noon(D) - timedelta(days=1))
    db.session.execute(insert(source_cases).values(source_id=source.id, case_id=case.id))
    db.session.commit()
    assert due_state(source, 2, noon(D)).source_class == "key"


def test_new_never_patrolled_source_is_due_period_days_after_registration(city):
    source = make_source(city, registered=bj(D, 20))
    assert state(source, 3, D) == ("ok", "2026-11-12")
    assert state(source, 3, D + timedelta(days=2)) == ("due", "2026-11-12")
    assert state(source, 2, D) == ("ok", "2026-11-24")
    key = make_source(city, is_key=True, registered=bj(D, 20), code="K")
    patrolled(city, key, bj(D + timedelta(days=1)), level=2, username="sup_T1")
    # Twice a week with one patrol so far: the registration day stands in for the missing one.
    assert state(key, 2, D + timedelta(days=2)) == ("ok", "2026-11-17")


def test_supervisor_checkins_count_for_level_2_only(city):
    source = make_source(city)
    supervisor = city.users["sup_T1"]
    assert checkin_level(supervisor.grid.level) == 2 and checkin_level(None) == 1
    with clock.frozen_at(noon(D)):
        rounds.put_checkin(supervisor, uuid.uuid4(), {
            "patrol_id": None, "source_id": source.id, "outcome": "nothing_found",
            "captured_at": bj(D, 11), "notes": "", "inspection_id": None,
            "location": {"lon": 120.505, "lat": 32.31, "accuracy_m": 5.0, "source": "gps", "mock": False}})
        db.session.commit()
        level_2, level_3 = due_state(source, 2), due_state(source, 3)
    assert level_2.last_on == D and level_2.state == "ok"
    assert level_3.last_on is None and level_3.state == "overdue"


def test_beijing_date_boundaries(city):
    late, after_midnight = make_source(city, code="LATE"), make_source(city, code="AFTER")
    # 23:30 Beijing on the 19th is 15:30 UTC the same day; 00:30 on the 20th is 16:30 UTC the 19th.
    patrolled(city, late, datetime(2026, 11, 19, 15, 30, tzinfo=UTC), level=3)
    patrolled(city, after_midnight, datetime(2026, 11, 19, 16, 30, tzinfo=UTC), level=3)
    assert due_state(late, 3, noon(date(2026, 11, 20))).patrol_days == (date(2026, 11, 19),)
    assert due_state(after_midnight, 3, noon(date(2026, 11, 20))).patrol_days == (date(2026, 11, 20),)
    just_before = datetime(2026, 11, 21, 15, 59, tzinfo=UTC)  # 23:59 Beijing on the 21st
    assert due_state(late, 3, just_before).state == "due"
    assert due_state(late, 3, just_before + timedelta(minutes=2)).state == "overdue"
    assert due_state(after_midnight, 3, just_before).state == "ok"
    assert due_state(after_midnight, 3, just_before + timedelta(minutes=2)).state == "due"


def test_frozen_clock_is_the_default_now(city):
    source = make_source(city)
    patrolled(city, source, bj(D), level=3)
    with clock.frozen_at(noon(D + timedelta(days=2))):
        assert due_state(source, 3).state == "due"
    with clock.frozen_at(noon(D + timedelta(days=5))):
        assert due_state(source, 3).days_overdue(D + timedelta(days=5)) == 3


def test_changed_rules_take_effect(city):
    source = make_source(city)
    patrolled(city, source, bj(D), level=3)
    rules = get_setting("patrol_rules")
    set_setting("patrol_rules", {**rules, "3": {**rules["3"], "ordinary": {"times": 1, "period_days": 3}}})
    assert state(source, 3, D + timedelta(days=2)) == ("ok", "2026-11-13")


# ---------------------------------------------------------------- the admin settings page


@pytest.fixture
def admin(app, city):
    person = PageClient(app)
    assert person.login("admin").status_code == 302
    return person


def form_fields(html: str) -> dict[str, str]:
    """Every setting's field as the browser would post it back (inputs and textareas)."""
    inputs = re.findall(r'<input id="s-[^"]+" name="([^"]+)" value="([^"]*)"', html)
    areas = re.findall(r'<textarea id="s-[^"]+" name="([^"]+)"[^>]*>([^<]*)</textarea>', html)
    return {name: unescape(value) for name, value in inputs + areas}


def test_settings_page_round_trips_json_settings(admin):
    page = admin.get("/admin/settings").text
    fields = form_fields(page)
    assert json.loads(fields["patrol_rules"]) == get_setting("patrol_rules")
    assert json.loads(fields["reception_department_codes"]) == ["env"]
    assert "巡查频次" in page
    unchanged = admin.post("/admin/settings", fields, follow_redirects=True)
    assert "修改 0 项" in unchanged.text
    rules = json.loads(fields["patrol_rules"])
    rules["1"]["ordinary"] = {"times": 1, "period_days": 30}
    saved = admin.post("/admin/settings", fields | {"patrol_rules": json.dumps(rules), "patrol_radius_m": "150"},
                       follow_redirects=True)
    assert "修改 2 项" in saved.text
    db.session.expire_all()
    assert get_setting("patrol_rules")["1"]["ordinary"] == {"times": 1, "period_days": 30}
    assert get_setting("patrol_radius_m") == 150
    actions = db.session.scalars(select(AdminAuditEntry.entity_id).where(AdminAuditEntry.action == "setting.update"))
    assert sorted(actions) == ["patrol_radius_m", "patrol_rules"]


def test_settings_page_refuses_bad_patrol_rules_in_chinese(admin):
    broken = admin.post("/admin/settings", {"patrol_rules": "{\"3\": "}, follow_redirects=True)
    assert "应为 JSON 格式" in broken.text
    rules = get_setting("patrol_rules")
    wrong = {**rules, "3": {**rules["3"], "key": {"times": 3, "period_days": 2}}}
    refused = admin.post("/admin/settings", {"patrol_rules": json.dumps(wrong)}, follow_redirects=True)
    assert "应为各级网格" in refused.text
    db.session.expire_all()
    assert get_setting("patrol_rules") == rules
