"""Open311 GeoReport v2: field rules, filters, POST through intake with an API key, errors, and
no personal data anywhere in what goes out."""

from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree

import pytest

from app.extensions import db
from app.models import Case
from app.services import clock
from app.services.admin.api_keys import create_api_key
from tests.factories import make_case

REQUEST_FIELDS = {"service_request_id", "status", "status_notes", "service_name", "service_code", "description",
                  "agency_responsible", "service_notice", "requested_datetime", "updated_datetime",
                  "expected_datetime", "address", "address_id", "zipcode", "lat", "long", "media_url"}
SERVICE_FIELDS = {"service_code", "service_name", "description", "metadata", "type", "keywords", "group"}
PERSONAL = ("张三丰", "13812345678", "320682199001011234", "李四", "13900001111")


@pytest.fixture
def api_key(city):
    _, raw = create_api_key(city.users["admin"], "FixMyStreet 测试")
    db.session.commit()
    return raw


def _no_personal_data(text: str) -> None:
    assert not any(p in text for p in PERSONAL), text


def test_services_json_and_xml(client, city):
    body = client.get("/open311/v2/services.json").get_json()
    assert {s["service_code"] for s in body} == {"air", "noise", "water", "solid_waste", "soil", "radiation",
                                                 "ecology"}
    assert all(set(s) == SERVICE_FIELDS and s["metadata"] is False and s["type"] == "realtime" for s in body)
    root = ElementTree.fromstring(client.get("/open311/v2/services.xml").data)
    assert root.tag == "services" and len(root.findall("service")) == 7
    assert root.find("service/metadata").text == "false"
    assert client.get("/open311/v2/services/noise.json").get_json() == {"service_code": "noise", "attributes": []}
    missing = client.get("/open311/v2/services/nope.json")
    assert missing.status_code == 404 and missing.get_json()[0]["code"] == 404


def test_requests_filters_and_fields(client, city):
    city.cases["V11"].status = "closed"
    city.cases["V22"].category = "noise"
    city.cases["V12"].title = "噪声 联系人13812345678"
    old = make_case(120.505, 32.31, received_at=clock.now() - timedelta(days=120))
    db.session.commit()
    body = client.get("/open311/v2/requests.json").get_json()
    assert {r["service_request_id"] for r in body} == {c.number for c in city.cases.values()}  # 90 days: not old
    assert all(set(r) == REQUEST_FIELDS for r in body)
    v11 = next(r for r in body if r["service_request_id"] == city.cases["V11"].number)
    assert (v11["status"], v11["service_code"], v11["lat"], v11["long"]) == ("closed", "air", 32.31, 120.505)
    assert datetime.fromisoformat(v11["requested_datetime"]).tzinfo is not None
    _no_personal_data(client.get("/open311/v2/requests.json").get_data(as_text=True))
    assert [r["service_request_id"] for r in client.get("/open311/v2/requests.json?service_code=noise").get_json()] \
        == [city.cases["V22"].number]
    assert len(client.get("/open311/v2/requests.json?status=open").get_json()) == 3
    start = (clock.now() - timedelta(days=200)).astimezone(UTC).isoformat()
    assert old.number in {r["service_request_id"] for r in
                          client.get("/open311/v2/requests.json", query_string={"start_date": start}).get_json()}
    one = client.get(f"/open311/v2/requests/{old.number}.xml")
    root = ElementTree.fromstring(one.data)
    assert root.tag == "service_requests" and root.find("request/service_request_id").text == old.number
    _no_personal_data(one.get_data(as_text=True))
    bad = client.get("/open311/v2/requests.xml?start_date=yesterday")
    assert bad.status_code == 400 and ElementTree.fromstring(bad.data).find("error/code").text == "400"


def test_post_creates_a_case_through_intake(client, city, api_key):
    form = {"api_key": api_key, "service_code": "noise", "lat": "32.31", "long": "120.535",
            "description": "工地夜间施工噪声", "first_name": "四", "last_name": "李", "phone": "13900001111",
            "address_string": "东镇建设路"}
    response = client.post("/open311/v2/requests.json", data=form)
    assert response.status_code == 201, response.get_json()
    number = response.get_json()[0]["service_request_id"]
    case = db.session.query(Case).filter_by(number=number).one()
    assert (case.channel, case.category, case.grid.code, case.petitioner_name, case.status) == (
        "online", "noise", "V22", "李四", "registered")
    _no_personal_data(client.get(f"/open311/v2/requests/{number}.json").get_data(as_text=True))
    updates = client.get("/open311/v2/servicerequestupdates.json").get_json()
    assert [(u["service_request_id"], u["description"], u["status"]) for u in updates
            if u["service_request_id"] == number] == [(number, "登记", "open")]
    denied = client.post("/open311/v2/requests.json", data=form | {"api_key": "fl_nothing_here"})
    assert denied.status_code == 403 and denied.get_json()[0]["code"] == 403
    incomplete = client.post("/open311/v2/requests.xml", data={"api_key": api_key, "service_code": "noise"})
    assert incomplete.status_code == 400 and ElementTree.fromstring(incomplete.data).tag == "errors"


def test_post_follows_georeport_v2_on_codes_addresses_and_descriptions(client, auth, city, api_key):
    """Unknown service_code → 404; an address without lat/long is placed by the village it
    names, or by its town alone (no point), or not at all (the command office's queue);
    no description is fine. Grids of the tiny city: 西镇 (V11村, V12村), 东镇 (V21村, V22村)."""
    def post(**fields):
        return client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "air"} | fields)

    unknown = post(service_code="smells", lat="32.31", long="120.535", description="异味")
    assert unknown.status_code == 404 and unknown.get_json()[0]["code"] == 404

    def created(response) -> Case:
        assert response.status_code == 201, response.get_json()
        return db.session.query(Case).filter_by(number=response.get_json()[0]["service_request_id"]).one()

    village = created(post(address_string="东镇V21村工业路8号", description="夜间异味"))
    assert (village.grid.code, village.town.name, village.location is not None) == ("V21", "东镇", True)
    town_only = created(post(address_string="西镇建设路"))
    assert (town_only.grid_id, town_only.town.name, town_only.location) == (None, "西镇", None)
    assert town_only.title == "大气问题（西镇建设路）" and town_only.description == ""
    nowhere = created(post(address_string="人民路12号"))
    assert (nowhere.grid_id, nowhere.town_id, nowhere.location, nowhere.outside_grid) == (None, None, None, True)
    auth_queue = client.get(f"/open311/v2/requests/{nowhere.number}.json").get_json()[0]
    assert (auth_queue["lat"], auth_queue["address"]) == ("", "人民路12号")
    nothing = post(description="没有位置")
    assert nothing.status_code == 400
    auth.login("command")
    queue = client.get("/desk/").get_data(as_text=True)
    assert nowhere.number in queue and town_only.number in queue
    assert "人民路12号" in client.get(f"/desk/cases/{nowhere.id}").get_data(as_text=True)


def test_a_point_outside_the_city_is_kept_for_the_command_offices_outside_queue(client, auth, city, api_key):
    """An outside system cannot tick the desk's 「市外」 box; its complaint is registered as 市外
    rather than refused, and the command office finds it in that queue. A point off the globe is
    still a 400."""
    sent = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "noise",
                                                            "lat": "39.9042", "long": "116.4074",
                                                            "description": "夜间施工噪声"})
    assert sent.status_code == 201, sent.get_json()
    number = sent.get_json()[0]["service_request_id"]
    case = db.session.query(Case).filter_by(number=number).one()
    assert (case.outside_city, case.grid_id, case.town_id) == (True, None, None)
    auth.login("command")
    assert number in client.get("/desk/?outside_city=1").get_data(as_text=True)
    inside = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "air",
                                                              "lat": "32.31", "long": "120.535"})
    assert db.session.query(Case).filter_by(number=inside.get_json()[0]["service_request_id"]).one().outside_city \
        is False
    off_globe = client.post("/open311/v2/requests.json", data={"api_key": api_key, "service_code": "air",
                                                                "lat": "95", "long": "120.5"})
    assert off_globe.status_code == 400 and off_globe.get_json()[0]["code"] == 400
