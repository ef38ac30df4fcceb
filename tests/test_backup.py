"""``flask backup create`` → ``flask backup restore`` into an empty instance gives back every
row and every photo byte for byte, on whichever database the suite runs (SpatiaLite or PostGIS)."""

import hashlib
import json
import os
import tarfile
import uuid
from pathlib import Path

import pytest
from flask import current_app

from app.extensions import db
from app.models import Case, Inspection, Photo
from app.models.vocab import PhotoStatus
from app.services import clock
from tests.conftest import empty_all_tables
from tests.db_snapshot import snapshot
from tests.factories import make_case


def photo_files() -> dict[str, bytes]:
    """Every stored photo file by its path under PHOTO_DIR."""
    root = Path(current_app.config["PHOTO_DIR"])
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def remove_photos() -> None:
    """Leave PHOTO_DIR empty."""
    root = Path(current_app.config["PHOTO_DIR"])
    for path in sorted(root.rglob("*"), reverse=True):
        path.unlink() if path.is_file() else path.rmdir()


@pytest.fixture
def stored_photos(city):
    """A few photo files as the pipeline lays them out, one of them referenced by a case's check."""
    case = city.cases["V11"]
    inspection = Inspection(id=uuid.uuid4(), case_id=case.id, inspector_id=city.users["insp_V11"].id,
                            grid_id=case.grid_id, notes="现场核查", content_sha256="0" * 64, captured_at=clock.now())
    db.session.add(Photo(id=uuid.uuid4(), inspection=inspection, status=PhotoStatus.RECEIVED, sha256="ab12" * 16,
                         content_type="image/jpeg"))
    db.session.commit()
    root = Path(current_app.config["PHOTO_DIR"])
    files = {"original/ab/ab12.jpg": os.urandom(70_000), "display/ab/ab12.jpg": os.urandom(20_000),
             "thumb/ab/ab12.jpg": b"\xff\xd8\xff" + bytes(range(256)) * 3, "original/cd/cd34.heic": b""}
    for name, data in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    yield files
    remove_photos()


def run(app, *args):
    """Run a flask command; return (exit code, output)."""
    result = app.test_cli_runner().invoke(args=list(args))
    return result.exit_code, result.output


def test_backup_then_restore_into_an_empty_instance_gives_back_everything(app, stored_photos, tmp_path):
    before_rows, before_photos = snapshot(), photo_files()
    assert sum(len(rows) for rows in before_rows.values()) > 50 and len(before_photos) == 4

    code, output = run(app, "backup", "create", "--output", str(tmp_path))
    assert code == 0, output
    archive = next(tmp_path.glob("firstline-*.tar"))
    with tarfile.open(archive) as tar:
        manifest = json.load(tar.extractfile("manifest.json"))
        names = set(tar.getnames())
    assert manifest["database"]["dialect"] == db.engine.dialect.name
    assert manifest["database"]["rows"]["cases"] == len(before_rows["cases"])
    assert manifest["files"]["photos/original/ab/ab12.jpg"]["sha256"] == hashlib.sha256(
        stored_photos["original/ab/ab12.jpg"]).hexdigest()
    assert names == {"manifest.json", *manifest["files"]}

    code, output = run(app, "backup", "restore", str(archive))
    assert code == 1 and "不是空的" in output  # never over an instance holding data
    assert snapshot() == before_rows

    db.session.remove()
    empty_all_tables()
    remove_photos()
    assert snapshot() != before_rows and photo_files() == {}

    code, output = run(app, "backup", "restore", str(archive))
    assert code == 0, output
    assert "均与备份清单一致" in output
    db.session.remove()
    assert snapshot() == before_rows  # row for row
    assert photo_files() == before_photos  # byte for byte
    make_case(120.505, 32.31)  # the restored sequences hand out fresh ids
    db.session.commit()
    assert db.session.query(Case).count() == len(before_rows["cases"]) + 1


def test_a_damaged_archive_is_refused_before_anything_changes(app, stored_photos, tmp_path):
    code, _ = run(app, "backup", "create", "--output", str(tmp_path / "b.tar"))
    assert code == 0
    archive = tmp_path / "b.tar"
    with tarfile.open(archive) as tar:
        offset = tar.getmember("photos/display/ab/ab12.jpg").offset_data
    with archive.open("r+b") as handle:
        handle.seek(offset + 100)
        byte = handle.read(1)
        handle.seek(offset + 100)
        handle.write(bytes([byte[0] ^ 0xFF]))
    before = snapshot()
    db.session.remove()
    empty_all_tables()
    remove_photos()
    code, output = run(app, "backup", "restore", str(archive))
    assert code == 1 and "校验和不符" in output and "photos/display/ab/ab12.jpg" in output
    assert photo_files() == {} and snapshot() != before

    not_a_backup = tmp_path / "x.tar"
    not_a_backup.write_bytes(b"hello")
    code, output = run(app, "backup", "restore", str(not_a_backup))
    assert code == 1 and "不是有效的备份文件" in output
