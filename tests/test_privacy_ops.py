"""Privacy operations: ``flask privacy purge`` (dry run changes nothing; the real run
anonymises ended cases past the retention, logged) and ``flask privacy export``."""

import json
from datetime import timedelta

import pytest
from sqlalchemy import select

from app.extensions import db
from app.models import AdminAuditEntry, CaseNotice, CaseReply, LoginAttempt
from app.models.vocab import CaseStatus
from app.services import clock
from app.services.cases.timeline import append_event, verify_chain
from tests.db_snapshot import snapshot
from tests.factories import make_case
from tests.page_client import PageClient


@pytest.fixture
def ended_cases(city):
    """Cases that ended long ago, recently, or never, each with a petitioner."""
    now = clock.now()
    old = now - timedelta(days=1200)
    cases = {
        "old_closed": make_case(120.505, 32.31, status=CaseStatus.CLOSED, closed_at=old,
                                description="张三丰（13812345678）反映厂区夜间排放异味"),
        "old_declined": make_case(120.515, 32.31, status=CaseStatus.DECLINED, updated_at=old,
                                  petitioner_phone="13700000000"),
        "recent_closed": make_case(120.525, 32.31, status=CaseStatus.CLOSED, closed_at=now - timedelta(days=100)),
        "old_but_open": make_case(120.535, 32.31, status=CaseStatus.HANDLING, received_at=old),
    }
    target = cases["old_closed"]
    db.session.add(CaseNotice(case_id=target.id, kind="acceptance", text="张三丰同志：您反映的问题已受理。",
                              issued_by_id=city.users["sup_T1"].id, issued_at=old))
    db.session.add(CaseReply(case_id=target.id, request_summary="信访人张三丰请求停止排放",
                             facts_and_reasons="经查属实", decision="support", legal_basis="《大气污染防治法》",
                             replied_by_id=city.users["sup_T1"].id, replied_at=old))
    append_event(target, "notify", city.users["sup_T1"], note="已电话告知张三丰", at=old)
    db.session.add(LoginAttempt(username="someone", address="10.1.1.1", at=now - timedelta(days=200), succeeded=False))
    db.session.commit()
    return cases


def test_purge_dry_run_changes_nothing(app, ended_cases):
    before = snapshot()
    result = app.test_cli_runner().invoke(args=["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert ended_cases["old_closed"].number in result.output and ended_cases["old_declined"].number in result.output
    assert ended_cases["recent_closed"].number not in result.output
    assert "试运行" in result.output and "将匿名化（试运行，未改动数据） 2 件" in result.output
    db.session.expire_all()
    assert snapshot() == before


def test_purge_anonymises_ended_cases_past_the_retention_and_logs_it(app, ended_cases):
    result = app.test_cli_runner().invoke(args=["privacy", "purge", "--execute"])
    assert result.exit_code == 0, result.output
    assert "已匿名化 2 件" in result.output and "1 条办理记录备注仍含信访人信息" in result.output
    db.session.expire_all()
    old = ended_cases["old_closed"]
    assert (old.petitioner_name, old.petitioner_phone, old.petitioner_id_number) == (None, None, None)
    assert old.description == "[已匿名]（[已匿名]）反映厂区夜间排放异味"
    assert db.session.scalar(select(CaseNotice.text)) == "[已匿名]同志：您反映的问题已受理。"
    assert db.session.scalar(select(CaseReply.request_summary)) == "信访人[已匿名]请求停止排放"
    assert ended_cases["old_declined"].petitioner_phone is None
    for kept in ("recent_closed", "old_but_open"):
        assert ended_cases[kept].petitioner_phone == "13812345678", kept
    assert verify_chain(old.id) == []  # the hash-chained timeline is untouched
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == "privacy.purge"))
    assert entry.actor_id is None
    assert sorted(entry.after["cases"]) == sorted([old.number, ended_cases["old_declined"].number])
    assert "13812345678" not in json.dumps(entry.after, ensure_ascii=False)
    assert db.session.query(LoginAttempt).count() == 0  # older than LOGIN_ATTEMPT_RETENTION_DAYS
    again = app.test_cli_runner().invoke(args=["privacy", "purge", "--execute"])
    assert "已匿名化 0 件" in again.output


def test_the_case_page_still_works_after_purge(app, ended_cases):
    app.test_cli_runner().invoke(args=["privacy", "purge", "--execute"])
    person = PageClient(app)
    person.login("sup_T1")
    page = person.get(f"/desk/cases/{ended_cases['old_closed'].id}")
    assert page.status_code == 200 and "13812345678" not in page.text and "张三丰" not in page.text.split("办理记录")[0]


def test_export_lists_everything_held_about_one_petitioner(app, ended_cases, tmp_path):
    out = tmp_path / "export.json"
    result = app.test_cli_runner().invoke(args=["privacy", "export", "--phone", "13812345678", "--output", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    numbers = {c["number"] for c in data["cases"]}
    assert ended_cases["old_closed"].number in numbers and ended_cases["old_declined"].number not in numbers
    old = next(c for c in data["cases"] if c["number"] == ended_cases["old_closed"].number)
    assert old["petitioner"]["name"] == "张三丰" and old["notices"][0]["text"].startswith("张三丰同志")
    assert old["replies"][0]["legal_basis"] == "《大气污染防治法》"
    assert old["timeline"][-1]["note"] == "已电话告知张三丰"
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    entry = db.session.scalar(select(AdminAuditEntry).where(AdminAuditEntry.action == "privacy.export"))
    assert entry.after["matched_by"] == ["phone"] and "13812345678" not in json.dumps(entry.after)
    nothing = app.test_cli_runner().invoke(args=["privacy", "export"])
    assert nothing.exit_code == 2 and "至少" in nothing.output
