"""A large export is asked for, made by the worker and fetched when ready: the desk shows
「正在生成」 until then, only the person who asked may fetch it, and it is gone after a day."""

import io
import re
import uuid
from datetime import timedelta

import pytest
from openpyxl import load_workbook

from app.extensions import db
from app.models import ExportJob
from app.services import background, clock
from app.services.campaign import export_jobs
from tests.factories import make_case
from tests.helpers import Desk, form_token, sign_in_pages


@pytest.fixture
def held(app, monkeypatch):
    """Export tasks are kept back, as if the worker had not got to them yet; other tasks (the map
    summary's refresh after cases are written) run as usual."""
    sent, queue = [], background.queue()
    send = queue.send
    monkeypatch.setattr(queue, "send", lambda name, kwargs: sent.append((name, kwargs)) if name.startswith("exports.")
                        else send(name, kwargs))
    return sent


def _rows(data: bytes) -> list[list]:
    return [list(r) for r in load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True)]


def test_the_desk_waits_for_the_worker_then_downloads(app, city, held):
    make_case(120.505, 32.31, title="夜间异味")
    db.session.commit()
    client = app.test_client()
    sign_in_pages(client, "command")
    overview = client.get("/desk/campaign/").text
    asked = client.post("/desk/campaign/ledger", data={"csrf_token": form_token(overview)})
    assert asked.status_code == 302
    page = client.get(asked.headers["Location"]).text
    assert "正在生成" in page and 'http-equiv="refresh"' in page
    job_id = re.search(r"/exports/([0-9a-f-]{36})", asked.headers["Location"]).group(1)
    assert client.get(f"/desk/campaign/exports/{job_id}/file").status_code == 503

    (name, kwargs), = held
    assert background.run_now(name, **kwargs) is True
    page = client.get(asked.headers["Location"]).text
    assert 'data-status="done"' in page and "下载 案件台账_" in page  # named for its period
    with client.get(f"/desk/campaign/exports/{job_id}/file") as download:
        assert download.status_code == 200
        rows = _rows(download.data)
    headings = next(n for n, row in enumerate(rows) if row[:2] == ["序号", "案件编号"])  # below the period line
    assert any("夜间异味" in row for row in rows[headings + 1:])

    # Only the person who asked sees the job or its file (it may carry personal data).
    desk = Desk(app)
    assert desk.get("admin", f"/api/v1/exports/{job_id}").status_code == 404
    assert desk.get("admin", f"/api/v1/exports/{job_id}/file").status_code == 404
    assert desk.get("command", f"/api/v1/exports/{job_id}").get_json()["status"] == "done"


def test_the_api_says_where_an_export_stands_and_old_ones_go(app, city, held):
    desk = Desk(app)
    job = desk.post("command", "/api/v1/exports/ledger", {}).get_json()
    assert job["status"] == "queued" and job["status_label"] == "正在生成" and job["file_url"] is None
    waiting = desk.get("command", f"/api/v1/exports/{job['id']}/file")
    assert waiting.status_code == 503 and waiting.headers["Retry-After"]
    name, kwargs = held.pop()
    background.run_now(name, **kwargs)
    done = desk.get("command", f"/api/v1/exports/{job['id']}").get_json()
    assert done["status"] == "done" and done["file_url"].endswith("/file")
    stored = db.session.get(ExportJob, uuid.UUID(done["id"]))
    path = export_jobs.file_path(stored)
    assert path.exists()
    assert export_jobs.purge(clock.now()) == 0
    assert export_jobs.purge(clock.now() + timedelta(days=1, minutes=1)) == 1
    db.session.commit()
    assert not path.exists()
    assert desk.get("command", f"/api/v1/exports/{job['id']}").status_code == 404
