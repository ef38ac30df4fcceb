"""Backups (备份) and restores: one archive with the database and every stored photo.

``create_backup`` writes an uncompressed tar (photos are already compressed):

* ``database/firstline.sqlite`` — a consistent copy taken with SQLite's online backup API
  (readers and writers carry on), or ``database/firstline.pgdump`` — ``pg_dump`` in its
  custom format, taken in an exported snapshot whose row counts go into the manifest;
* ``photos/...`` — every file under PHOTO_DIR, copied after the database, so every photo
  the dump refers to is present (photos are written once and never changed);
* ``audit/checkpoint.json`` — a signed checkpoint of every hash chain's head, taken just
  before the dump (``services.admin.integrity``), so the dump holds at least what it vouches for;
* ``manifest.json`` — format, database kind, Alembic revision, row count of every table,
  and the sha256 and size of every other member.

``restore_backup`` checks every sum before touching anything, refuses a target that holds
any row or photo, loads the database of the same kind, writes the photos back byte for byte,
checks the row counts against the manifest and every chain against the signed checkpoint
(which needs the same AUDIT_KEY), and keeps the checkpoint for later ``flask audit verify``.
"""

import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from flask import current_app
from sqlalchemy import func, inspect, select, table, text

from app.errors import Conflict, DomainError, InvalidInput
from app.extensions import db
from app.services import clock
from app.services.admin.integrity import (
    checkpoint_bytes,
    keep_checkpoint,
    read_checkpoint,
    take_checkpoint,
    verify_everything,
)

FORMAT = 1
MANIFEST = "manifest.json"
DUMP_NAMES = {"sqlite": "database/firstline.sqlite", "postgresql": "database/firstline.pgdump"}
CHECKPOINT_NAME = "audit/checkpoint.json"
_CHUNK = 1024 * 1024


class BackupError(DomainError):
    """A backup or restore could not be done; the message says why (500-free: 409)."""

    status = 409


@dataclass
class BackupResult:
    """What an archive holds."""

    path: Path
    dialect: str
    revision: str | None
    rows: dict[str, int]
    photos: int
    photo_bytes: int


# --------------------------------------------------------------------------- create


def create_backup(output: Path | None = None) -> BackupResult:
    """Write a new archive (into BACKUP_DIR unless ``output`` names a file or folder)."""
    path = _archive_path(output)
    dialect = db.engine.dialect.name
    checkpoint = checkpoint_bytes(take_checkpoint())
    db.session.commit()  # end the read: the dump must see everything the checkpoint saw
    with tempfile.TemporaryDirectory(prefix="firstline-backup-") as tmp:
        dump = Path(tmp) / PurePosixPath(DUMP_NAMES[dialect]).name
        rows = _dump_sqlite(dump) if dialect == "sqlite" else _dump_postgres(dump)
        files: dict[str, dict] = {}
        partial = path.with_name(path.name + ".partial")
        with tarfile.open(partial, "w", format=tarfile.PAX_FORMAT) as tar:
            files[DUMP_NAMES[dialect]] = _add_file(tar, dump, DUMP_NAMES[dialect])
            _add_bytes(tar, CHECKPOINT_NAME, checkpoint)
            files[CHECKPOINT_NAME] = {"sha256": hashlib.sha256(checkpoint).hexdigest(), "size": len(checkpoint)}
            for photo, name in _photo_files():
                files[name] = _add_file(tar, photo, name)
            manifest = {
                "format": FORMAT, "app": "firstline", "created_at": clock.now().isoformat(),
                "database": {"dialect": dialect, "file": DUMP_NAMES[dialect], "revision": _revision(), "rows": rows},
                "files": files,
            }
            _add_bytes(tar, MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8"))
        partial.replace(path)
    photos = [v for k, v in files.items() if k.startswith("photos/")]
    current_app.logger.info("backup written: %s (%d photos)", path, len(photos))
    return BackupResult(path, dialect, manifest["database"]["revision"], rows, len(photos),
                        sum(p["size"] for p in photos))


def _archive_path(output: Path | None) -> Path:
    """Where the archive goes: a named file, or a timestamped file in a folder."""
    stamp = clock.now().strftime("%Y%m%dT%H%M%SZ")
    target = Path(output) if output else Path(current_app.config["BACKUP_DIR"])
    if output is None or target.is_dir() or not target.suffix:
        target.mkdir(parents=True, exist_ok=True)
        target = target / f"firstline-{stamp}.tar"
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        raise BackupError(f"备份文件已存在：{target}")
    return target


def app_tables() -> list[str]:
    """The app's tables plus Alembic's, in dependency order."""
    return [t.name for t in db.metadata.sorted_tables] + ["alembic_version"]


def _count_rows(connection, tables: list[str]) -> dict[str, int]:
    """Row count of each table that exists."""
    present = set(inspect(connection).get_table_names())
    return {t: connection.execute(select(func.count()).select_from(table(t))).scalar_one()
            for t in tables if t in present}


def _revision() -> str | None:
    """The database's Alembic revision."""
    with db.engine.connect() as connection:
        if "alembic_version" not in inspect(connection).get_table_names():
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _dump_sqlite(target: Path) -> dict[str, int]:
    """Copy the live database with the online backup API; count rows in the copy."""
    source = db.engine.raw_connection()
    try:
        copy = sqlite3.connect(target)
        try:
            source.driver_connection.backup(copy)
            tables = set(r[0] for r in copy.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
            return {t: copy.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in app_tables() if t in tables}
        finally:
            copy.close()
    finally:
        source.close()


def _dump_postgres(target: Path) -> dict[str, int]:
    """pg_dump in the custom format, in a snapshot exported by a transaction that counts rows."""
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="REPEATABLE READ")
        with connection.begin():
            snapshot = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            rows = _count_rows(connection, app_tables())
            _run_pg("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                    f"--file={target}", _libpq_uri())
    return rows


def _photo_files() -> list[tuple[Path, str]]:
    """Every file under PHOTO_DIR with its name in the archive, in a stable order."""
    root = Path(current_app.config["PHOTO_DIR"])
    if not root.is_dir():
        return []
    return [(p, f"photos/{p.relative_to(root).as_posix()}") for p in sorted(root.rglob("*")) if p.is_file()]


class _HashingReader:
    """A file reader that hashes what passes through it (so each file is read once)."""

    def __init__(self, handle):
        self.handle = handle
        self.digest = hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        """Read and hash the next bytes."""
        data = self.handle.read(size)
        self.digest.update(data)
        return data


def _add_file(tar: tarfile.TarFile, path: Path, name: str) -> dict:
    """Add one file; return its sha256 and size for the manifest."""
    info = tar.gettarinfo(str(path), arcname=name)
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    with path.open("rb") as handle:
        reader = _HashingReader(handle)
        tar.addfile(info, reader)
    return {"sha256": reader.digest.hexdigest(), "size": info.size}


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    """Add a member from memory."""
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mtime = int(clock.now().timestamp())
    tar.addfile(info, io.BytesIO(data))


# --------------------------------------------------------------------------- restore


def read_manifest(archive: Path) -> dict:
    """The archive's manifest, or InvalidInput when this is not a Firstline backup."""
    try:
        with tarfile.open(archive, "r:*") as tar:
            manifest = json.load(tar.extractfile(MANIFEST))
    except (tarfile.TarError, KeyError, json.JSONDecodeError, OSError) as exc:
        raise InvalidInput(f"不是有效的备份文件：{exc}") from exc
    if manifest.get("app") != "firstline" or manifest.get("format") != FORMAT:
        raise InvalidInput("不是本系统可识别的备份格式。")
    return manifest


def verify_archive(archive: Path) -> dict:
    """Check every member against the manifest (sum, size, nothing missing or extra); the manifest."""
    manifest = read_manifest(archive)
    expected = manifest["files"]
    seen = set()
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            if member.name == MANIFEST:
                continue
            _safe_name(member)
            facts = expected.get(member.name)
            if facts is None:
                raise InvalidInput(f"备份中有清单未列出的文件：{member.name}")
            digest = _sha256(tar.extractfile(member))
            if digest != facts["sha256"] or member.size != facts["size"]:
                raise InvalidInput(f"备份文件已损坏：{member.name} 的校验和不符。")
            seen.add(member.name)
    missing = set(expected) - seen
    if missing:
        raise InvalidInput(f"备份不完整，缺少 {len(missing)} 个文件，如 {sorted(missing)[0]}。")
    return manifest


def _sha256(handle) -> str:
    """The hex sha256 of everything a file object still holds."""
    digest = hashlib.sha256()
    while chunk := handle.read(_CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


def _safe_name(member: tarfile.TarInfo) -> None:
    """Only plain files under database/ or photos/, with no way out of the target folder."""
    parts = PurePosixPath(member.name).parts
    if not member.isfile() or not parts or parts[0] not in ("database", "photos", "audit") or ".." in parts \
            or member.name.startswith("/"):
        raise InvalidInput(f"备份中有不安全的文件名：{member.name}")


def target_holdings() -> dict[str, int]:
    """Rows per app table and stored photos in this instance (all zero: an empty instance)."""
    with db.engine.connect() as connection:
        rows = _count_rows(connection, [t.name for t in db.metadata.sorted_tables])
    held = {table: count for table, count in rows.items() if count}
    photo_count = len(_photo_files())
    if photo_count:
        held["photos (files)"] = photo_count
    return held


def restore_backup(archive: Path) -> dict:
    """Restore an archive into this empty instance; returns the manifest."""
    manifest = verify_archive(archive)
    dialect = db.engine.dialect.name
    if manifest["database"]["dialect"] != dialect:
        raise BackupError(f"备份来自 {manifest['database']['dialect']} 数据库，当前实例是 {dialect}；"
                          "请恢复到同类数据库。")
    held = target_holdings()
    if held:
        summary = "、".join(f"{name} {count}" for name, count in list(held.items())[:5])
        raise Conflict(f"目标实例不是空的（{summary}），拒绝恢复以免覆盖数据。请在新建的空数据库和空照片目录上恢复。")
    with tempfile.TemporaryDirectory(prefix="firstline-restore-") as tmp:
        with tarfile.open(archive, "r:*") as tar:
            dump = Path(tmp) / "dump"
            _extract(tar, manifest["database"]["file"], dump)
            if dialect == "sqlite":
                _load_sqlite(dump)
            else:
                _load_postgres(dump)
            _restore_photos(tar, manifest)
            checkpoint = tar.extractfile(CHECKPOINT_NAME).read() if CHECKPOINT_NAME in manifest["files"] else None
    _check_counts(manifest["database"]["rows"])
    if checkpoint is not None:
        _check_chains(checkpoint)
    current_app.logger.info("backup restored from %s", archive)
    return manifest


def _check_chains(data: bytes) -> None:
    """Every chain of the restored database against the backup's signed checkpoint; keep it."""
    try:
        checkpoint = read_checkpoint(data)
    except InvalidInput as exc:
        raise BackupError(f"已恢复，但无法核对审计记录：{exc.message}") from exc
    breaks = verify_everything(checkpoint)
    db.session.rollback()
    if breaks:
        first = breaks[0]
        raise BackupError(f"已恢复，但 {len(breaks)} 处审计记录与备份的签名检查点不符，"
                          f"如 {first.chain} {first.subject_id} 第 {first.seq} 条：{first.reason}。"
                          "请运行 flask audit verify 查看全部。")
    keep_checkpoint(data)


def _extract(tar: tarfile.TarFile, name: str, target: Path) -> None:
    """Copy one member to a file."""
    with tar.extractfile(name) as source, target.open("wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)


def _load_sqlite(dump: Path) -> None:
    """Write the archived database over the (empty) target file with the backup API."""
    database = db.engine.url.database
    if not database or database == ":memory:":
        raise BackupError("当前数据库不是文件，无法恢复。")
    db.session.remove()
    db.engine.dispose()
    source, target = sqlite3.connect(dump), sqlite3.connect(database)
    try:
        source.backup(target)
    finally:
        source.close()
        target.close()
    db.engine.dispose()


def _load_postgres(dump: Path) -> None:
    """pg_restore everything but the PostGIS extension, dropping the empty tables first."""
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("CREATE EXTENSION IF NOT EXISTS postgis"))
    listing = _run_pg("pg_restore", "--list", str(dump))
    keep = [line for line in listing.splitlines() if " EXTENSION " not in line and " SCHEMA - public " not in line]
    list_file = dump.with_suffix(".list")
    list_file.write_text("\n".join(keep) + "\n")
    db.engine.dispose()
    _run_pg("pg_restore", "--clean", "--if-exists", "--no-owner", "--no-privileges", "--single-transaction",
            "--exit-on-error", f"--use-list={list_file}", f"--dbname={_libpq_uri()}", str(dump))
    db.engine.dispose()


def _restore_photos(tar: tarfile.TarFile, manifest: dict) -> None:
    """Write every photo back under PHOTO_DIR, byte for byte."""
    root = Path(current_app.config["PHOTO_DIR"])
    for name in sorted(n for n in manifest["files"] if n.startswith("photos/")):
        target = root.joinpath(*PurePosixPath(name).parts[1:])
        target.parent.mkdir(parents=True, exist_ok=True)
        _extract(tar, name, target)


def _check_counts(expected: dict[str, int]) -> None:
    """Every table holds as many rows as the manifest says."""
    with db.engine.connect() as connection:
        actual = _count_rows(connection, list(expected))
    wrong = {t: (n, actual.get(t)) for t, n in expected.items() if actual.get(t) != n}
    if wrong:
        table, (want, got) = next(iter(wrong.items()))
        raise BackupError(f"恢复后行数不符：{table} 应为 {want} 行，实为 {got} 行。")


# --------------------------------------------------------------------------- PostgreSQL tools


def _pg_tool(name: str) -> str:
    """The path of pg_dump / pg_restore: PG_BIN_DIR, else the newest installed, else PATH."""
    configured = current_app.config.get("PG_BIN_DIR")
    folders = [Path(configured)] if configured else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        reverse=True)
    for folder in folders:
        if (folder / name).exists():
            return str(folder / name)
    found = shutil.which(name)
    if found is None:
        raise BackupError(f"找不到 {name}，请安装 postgresql-client 或设置 PG_BIN_DIR。")
    return found


def _libpq_uri() -> str:
    """The database URL as libpq takes it; the password travels in PGPASSWORD, not argv."""
    return db.engine.url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)


def _run_pg(tool: str, *args: str) -> str:
    """Run a PostgreSQL client tool; BackupError with its message when it fails."""
    env = dict(os.environ)
    password = db.engine.url.password
    if password:
        env["PGPASSWORD"] = str(password)
    result = subprocess.run([_pg_tool(tool), *args], capture_output=True, text=True, env=env, check=False)
    if result.returncode != 0:
        raise BackupError(f"{tool} 失败：{result.stderr.strip()[:500]}")
    return result.stdout
