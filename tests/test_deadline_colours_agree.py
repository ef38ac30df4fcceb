"""One colour for a case everywhere: the desk (its clocks), the desk's 即将超期 tab (set-based
SQL), the phone's and the wall's (the case row) agree at every moment of a case's life, also
once its nearest running clock started long after receipt, where the wall used to count from
receipt and turn the case yellow days before the desk did."""

from datetime import timedelta

from app.extensions import db
from app.models import Case
from app.services import clock
from app.services.cases.deadlines import case_deadline_state
from tests.helpers import Desk, register

CITY_BOX = {"west": 120.45, "south": 32.25, "east": 120.65, "north": 32.40}


def _colours(desk: Desk, case_id: int) -> dict[str, str]:
    """The case's colour as each place states it now."""
    db.session.expire_all()
    now = clock.now()
    exact = str(case_deadline_state(db.session.get(Case, case_id), now))
    detail = desk.get("command", f"/api/v1/cases/{case_id}").get_json()["deadline_state"]
    due_soon = desk.get("command", "/api/v1/cases?tab=due_soon").get_json()["items"]
    tab = "yellow" if any(item["id"] == case_id for item in due_soon) else "not yellow"
    wall = {}
    for zoom in (9, 16):  # the summary's clusters and the case itself as a point
        query = "&".join(f"{key}={value}" for key, value in {**CITY_BOX, "zoom": zoom}.items())
        body = desk.get("command", f"/api/v1/wall/viewport?{query}").get_json()
        wall[zoom] = {str(c.get("state")) for c in body.get("clusters", []) + body.get("points", [])} - {"closed"}
    return {"exact": exact, "detail": detail, "tab": tab, "wall_clusters": wall[9], "wall_point": wall[16]}


def test_desk_tab_phone_and_wall_agree_on_a_case_whose_clock_started_after_receipt(app, city):
    for other in city.cases.values():  # closed, the tiny city's own cases never colour the cluster
        other.status = "closed"
    db.session.commit()
    desk = Desk(app)
    case_id = register(desk)["case"]["id"]
    desk.act("command", case_id, "accept", legal_track="petition", notice_text="您反映的问题已受理。")
    with clock.travel(timedelta(days=5)):  # assigned five days after receipt: a new clock starts then
        desk.act("sup_T1", case_id, "assign")
    row = db.session.get(Case, case_id)
    assert row.due_started_at is not None and row.due_started_at > row.received_at + timedelta(days=4)
    seen = set()
    total = (row.due_at - clock.now()).total_seconds() / 3600
    for hours in range(0, int(total) + 48, 6):
        with clock.travel(timedelta(hours=hours)):
            colours = _colours(desk, case_id)
            exact = colours["exact"]
            seen.add(exact)
            assert colours["detail"] == exact, (hours, colours)
            assert (colours["tab"] == "yellow") == (exact == "yellow"), (hours, colours)
            assert colours["wall_clusters"] == {exact} and colours["wall_point"] == {exact}, (hours, colours)
    assert {"green", "yellow", "red"} <= seen
