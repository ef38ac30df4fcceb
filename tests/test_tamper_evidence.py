"""Someone who can write every table still cannot rewrite the record unseen: each case's
timeline and the admin audit log end in a head signed with a key the database never holds,
and signed checkpoints outside the database remember every chain (``flask audit verify``
names what was done, on whichever database the suite runs)."""

import hashlib
import io
import json
import tarfile
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text

from app.extensions import db
from app.models import AdminAuditEntry, Case, CaseEvent, ChainHead
from app.services.admin import audit as admin_audit
from app.services.admin.integrity import latest_checkpoint, take_checkpoint
from app.services.cases.timeline import append_event, event_hash
from app.services.seals import GENESIS_HASH
from tests.conftest import empty_all_tables


@pytest.fixture
def chained(city):
    """Case V11 with five events, and four admin audit entries."""
    case = city.cases["V11"]
    for n in range(4):
        append_event(case, "note", city.users["command"], note=f"第{n}次备注")
    for n in range(4):
        admin_audit.record(city.users["admin"], "setting.change", "setting", f"s{n}", {"v": n}, {"v": n + 1})
    db.session.commit()
    return city


def verify(app, *args):
    """Run ``flask audit verify``; (exit code, output)."""
    db.session.rollback()  # end the test's read snapshot so the command sees every change
    result = app.test_cli_runner().invoke(args=["audit", "verify", *args])
    return result.exit_code, result.output


def as_database_writer(*statements):
    """Run SQL as someone with direct database access would, the append-only trigger aside."""
    with db.engine.begin() as conn:
        sqlite = conn.dialect.name == "sqlite"
        conn.execute(text("DROP TRIGGER case_events_append_only" if sqlite
                          else "ALTER TABLE case_events DISABLE TRIGGER case_events_append_only"))
        for statement, params in statements:
            conn.execute(text(statement), params)
        conn.execute(text("CREATE TRIGGER case_events_append_only BEFORE UPDATE ON case_events "
                          "BEGIN SELECT RAISE(ABORT, 'case_events is append-only'); END" if sqlite
                          else "ALTER TABLE case_events ENABLE TRIGGER case_events_append_only"))
    db.session.rollback()


def events_of(case_id):
    db.session.rollback()
    return db.session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.seq)).all()


def test_an_untouched_record_verifies(app, chained):
    take_checkpoint()
    code, output = verify(app)
    assert code == 0, output
    assert "0 件案件的办理记录、0 处管理操作日志被篡改或缺失" in output


def test_an_edited_event_is_named(app, chained):
    case = chained.cases["V11"]
    as_database_writer(("UPDATE case_events SET note = '篡改' WHERE case_id = :c AND seq = 3", {"c": case.id}))
    code, output = verify(app)
    assert code == 1
    assert f"案件 {case.number}（id {case.id}）第 3 条：事件内容被修改" in output


def test_an_edit_with_every_later_hash_recomputed_is_named(app, chained):
    case = chained.cases["V11"]
    events = events_of(case.id)
    statements, prev = [], events[1].hash
    for event in events[2:]:
        if event.seq == 3:
            event.note = "篡改"
        event.prev_hash = prev
        event.hash = prev = event_hash(event)
        statements.append(("UPDATE case_events SET note = :n, prev_hash = :p, hash = :h WHERE id = :i",
                           {"n": event.note, "p": event.prev_hash, "h": event.hash, "i": event.id}))
    db.session.rollback()
    as_database_writer(*statements)
    assert events_of(case.id)[2].note == "篡改"
    code, output = verify(app)
    assert code == 1
    assert f"案件 {case.number}（id {case.id}）第 5 条：记录被修改且其后哈希被重新计算" in output


def test_a_deleted_middle_event_is_named(app, chained):
    case = chained.cases["V11"]
    as_database_writer(("DELETE FROM case_events WHERE case_id = :c AND seq = 2", {"c": case.id}))
    code, output = verify(app)
    assert code == 1
    assert f"案件 {case.number}（id {case.id}）第 2 条：事件缺失（第 2 条被删除）" in output


def test_a_deleted_last_event_is_named(app, chained):
    case = chained.cases["V11"]
    as_database_writer(("DELETE FROM case_events WHERE case_id = :c AND seq = 5", {"c": case.id}))
    code, output = verify(app)
    assert code == 1
    assert f"案件 {case.number}（id {case.id}）第 5 条：最后 1 条记录被删除（签名链头记有 5 条）" in output


def _delete_case(case_id: int, with_head: bool) -> None:
    """Remove a case and every row that names it, as a database writer would."""
    statements = [(f"DELETE FROM {t.name} WHERE case_id = :c", {"c": case_id})
                  for t in reversed(db.metadata.sorted_tables) if "case_id" in t.c]
    statements.append(("DELETE FROM cases WHERE id = :c", {"c": case_id}))
    if with_head:
        statements.append(("DELETE FROM chain_heads WHERE chain = 'case' AND subject_id = :c", {"c": case_id}))
    as_database_writer(*statements)


def test_a_deleted_case_is_named_by_its_head(app, chained):
    case_id = chained.cases["V11"].id
    _delete_case(case_id, with_head=False)
    code, output = verify(app)
    assert code == 1
    assert f"案件 （已不存在）（id {case_id}）整体：案件被删除（签名链头记有 5 条办理记录）" in output


def test_a_case_deleted_with_its_head_is_named_by_the_checkpoint(app, chained):
    case_id = chained.cases["V11"].id
    take_checkpoint()
    _delete_case(case_id, with_head=True)
    code, output = verify(app)
    assert code == 1
    assert f"（id {case_id}）整体：案件被删除（检查点" in output and "时有 5 条办理记录" in output


def test_a_head_rolled_back_to_an_older_signed_state_is_caught_by_the_checkpoint(app, chained):
    case = chained.cases["V11"]
    old = db.session.scalar(select(ChainHead).where(ChainHead.chain == "case", ChainHead.subject_id == case.id))
    older = {"l": old.length, "h": old.last_hash, "s": old.signature}
    append_event(case, "note", note="之后的一条")
    db.session.commit()
    take_checkpoint()
    as_database_writer(("DELETE FROM case_events WHERE case_id = :c AND seq = 6", {"c": case.id}),
                       ("UPDATE chain_heads SET length = :l, last_hash = :h, signature = :s "
                        "WHERE chain = 'case' AND subject_id = :c", {**older, "c": case.id}))
    code, output = verify(app)
    assert code == 1
    assert f"案件 {case.number}（id {case.id}）第 6 条：检查点" in output and "被改写或删除（链头被回退）" in output
    # The next checkpoint does not bless the rollback.
    take_checkpoint()
    assert latest_checkpoint().heads["case"][case.id][0] == 6
    assert verify(app)[0] == 1


def test_a_forged_head_is_named(app, chained):
    case = chained.cases["V11"]
    as_database_writer(("DELETE FROM case_events WHERE case_id = :c AND seq = 5", {"c": case.id}),
                       ("UPDATE chain_heads SET length = 4 WHERE chain = 'case' AND subject_id = :c", {"c": case.id}))
    code, output = verify(app)
    assert code == 1 and f"（id {case.id}）整体：链头签名不符（链头被改写）" in output


# ---------------------------------------------------------------- the admin audit log


def test_admin_log_edit_is_named(app, chained):
    as_database_writer(("UPDATE admin_audit_log SET entity_id = 'x' WHERE seq = 2", {}))
    code, output = verify(app)
    assert code == 1 and "管理操作日志第 2 条：记录内容被修改" in output


def test_admin_log_edit_with_recomputed_hashes_is_named(app, chained):
    db.session.rollback()
    entries = db.session.scalars(select(AdminAuditEntry).order_by(AdminAuditEntry.seq)).all()
    statements, prev = [], entries[0].hash
    for entry in entries[1:]:
        if entry.seq == 2:
            entry.entity_id = "x"
        entry.prev_hash = prev
        entry.hash = prev = admin_audit.entry_hash(entry)
        statements.append(("UPDATE admin_audit_log SET entity_id = :e, prev_hash = :p, hash = :h WHERE id = :i",
                           {"e": entry.entity_id, "p": entry.prev_hash, "h": entry.hash, "i": entry.id}))
    db.session.rollback()
    as_database_writer(*statements)
    code, output = verify(app)
    assert code == 1 and "管理操作日志第 4 条：记录被修改且其后哈希被重新计算" in output


def test_admin_log_deleted_middle_and_last_entries_are_named(app, chained):
    as_database_writer(("DELETE FROM admin_audit_log WHERE seq IN (2, 4)", {}))
    code, output = verify(app)
    assert code == 1
    assert "管理操作日志第 2 条：记录缺失（第 2 条被删除）" in output
    assert "管理操作日志第 4 条：最后 1 条记录被删除" in output


def test_admin_log_emptied_with_its_head_is_caught_by_the_checkpoint(app, chained):
    take_checkpoint()
    as_database_writer(("DELETE FROM admin_audit_log", {}), ("DELETE FROM chain_heads WHERE chain = 'admin'", {}))
    code, output = verify(app)
    assert code == 1 and "管理操作日志第 4 条：检查点" in output


# ---------------------------------------------------------------- checkpoints and backups


def test_a_checkpoint_is_signed_written_and_logged(app, chained, caplog):
    caplog.set_level("INFO")
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 0, result.output
    path = Path(app.config["AUDIT_CHECKPOINT_DIR"])
    document = json.loads(next(path.glob("checkpoint-*.json")).read_text())
    assert document["heads"]["case"][str(chained.cases["V11"].id)][0] == 5
    assert document["heads"]["admin"]["0"][0] == 4
    assert document["signature"] in caplog.text
    document["heads"]["case"][str(chained.cases["V11"].id)][0] = 9
    forged = path / "forged.json"
    forged.write_text(json.dumps(document))
    code, output = verify(app, "--checkpoint", str(forged))
    assert code == 1 and "审计检查点签名不符" in output


def _swap_checkpoint(archive: Path, checkpoint: bytes) -> None:
    """Put another checkpoint into an archive and fix its manifest, as someone editing the file would."""
    with tarfile.open(archive) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar}
    manifest = json.loads(members["manifest.json"])
    members["audit/checkpoint.json"] = checkpoint
    manifest["files"]["audit/checkpoint.json"] = {"sha256": hashlib.sha256(checkpoint).hexdigest(),
                                                  "size": len(checkpoint)}
    members["manifest.json"] = json.dumps(manifest).encode()
    with tarfile.open(archive, "w") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def _empty_instance(app):
    db.session.remove()
    empty_all_tables()
    for path in Path(app.config["PHOTO_DIR"]).rglob("*"):
        if path.is_file():
            path.unlink()


def test_a_restore_verifies_against_the_backups_signed_checkpoint(app, chained, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", "--output", str(tmp_path / "a.tar")]).exit_code == 0
    _empty_instance(app)
    result = runner.invoke(args=["backup", "restore", str(tmp_path / "a.tar")])
    assert result.exit_code == 0, result.output
    code, output = verify(app)
    assert code == 0, output  # the restored checkpoint is the newest, and it holds


def test_a_restore_missing_what_the_checkpoint_vouches_for_is_refused(app, chained, tmp_path):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["backup", "create", "--output", str(tmp_path / "a.tar")]).exit_code == 0
    append_event(chained.cases["V11"], "note", note="备份之后")
    db.session.commit()
    newest = take_checkpoint().path.read_bytes()
    _swap_checkpoint(tmp_path / "a.tar", newest)  # a dump that lost the last event
    _empty_instance(app)
    result = runner.invoke(args=["backup", "restore", str(tmp_path / "a.tar")])
    assert result.exit_code == 1
    assert "与备份的签名检查点不符" in result.output and "被改写或删除" in result.output


def test_seal_signs_chains_written_before_heads_existed(app, chained):
    case = chained.cases["V11"]
    db.session.execute(delete(ChainHead))
    db.session.commit()
    code, output = verify(app)
    assert code == 1 and f"（id {case.id}）整体：签名链头缺失" in output
    result = app.test_cli_runner().invoke(args=["audit", "seal"])
    assert result.exit_code == 0 and "已为 5 条记录链签名链头" in result.output  # 4 cases and the admin log
    assert verify(app)[0] == 0
    assert db.session.scalar(select(CaseEvent.prev_hash).where(CaseEvent.seq == 1).limit(1)) == GENESIS_HASH
    assert db.session.get(Case, case.id) is not None


def test_a_forged_newest_checkpoint_is_not_written_over(app, chained):
    taken = take_checkpoint()
    document = json.loads(taken.path.read_text())
    document["heads"]["case"][str(chained.cases["V11"].id)][0] = 2
    taken.path.write_text(json.dumps(document))
    result = app.test_cli_runner().invoke(args=["audit", "checkpoint"])
    assert result.exit_code == 1 and "审计检查点签名不符" in result.output
    assert len(list(taken.path.parent.glob("checkpoint-*.json"))) == 1
