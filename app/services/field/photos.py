"""The photo pipeline: check an upload is a real photo, read its EXIF, keep the file as
received, and make a 1600 px display copy and a 320 px thumbnail with all metadata stripped.

The upload request does only the first three (``process_upload``, ``store_received``): it
answers once the file is safely on disk, and the worker makes the derived images later
(``make_derivatives``, the task ``photos.derive``). Until then the photo is "processing".

The phone sends its own shrunk copy of each photo (the file as received is then that copy),
and on Wi-Fi also the camera's untouched file, which is only checked, read and kept beside it
(``read_original``). Files are stored by content (sha256), so the same photo sent twice is
stored once: ``PHOTO_DIR/{original,display,thumb}/<sha[:2]>/<sha>.<ext>``.
"""

import hashlib
import io
import os
import struct
import uuid
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pillow_heif
from flask import current_app
from PIL import Image, PngImagePlugin, UnidentifiedImageError

from app.errors import InvalidInput

pillow_heif.register_heif_opener()

# A 50 MP phone photo is the largest real input; anything bigger is refused before decoding,
# so a small file that claims a huge size (a decompression bomb) never reaches memory.
MAX_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# A PNG's text and ICC chunks are inflated while the file is opened: at most 1 MB each and
# 4 MB in all (Pillow's own total is 64 MB), so a small file cannot expand to 50 MB of text.
PngImagePlugin.MAX_TEXT_CHUNK = 1024 * 1024
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024
# Everything decoding a hostile file can raise, across Pillow's plugins and pillow-heif: a
# chunk too large (ValueError), a broken structure (SyntaxError, struct.error, EOFError,
# IndexError, KeyError, TypeError, ZeroDivisionError), a bomb, a truncated stream (OSError),
# libheif's own (RuntimeError). Each becomes a 4xx with a Chinese reason, never a 500: the
# phone retries a 5xx forever, and every record queued behind that photo would wait.
DECODE_ERRORS = (
    UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning, OSError, ValueError,
    SyntaxError, struct.error, EOFError, IndexError, KeyError, TypeError, ZeroDivisionError, RuntimeError,
    MemoryError, OverflowError, NotImplementedError,
)
DISPLAY_EDGE = 1600
THUMB_EDGE = 320
FORMATS = {"JPEG": ("image/jpeg", "jpg"), "PNG": ("image/png", "png"), "HEIF": ("image/heic", "heic")}
EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_TIME_ORIGINAL = 0x9003, 0x9011
ORIENTATION = 0x0112


@dataclass
class ProcessedPhoto:
    """What the pipeline learnt from an upload, and the derived images."""

    sha256: str
    byte_size: int
    width: int
    height: int
    content_type: str
    extension: str
    taken_at: datetime | None
    lon: float | None
    lat: float | None
    orientation: int | None


@dataclass
class OriginalFile:
    """The camera's untouched file: what it is and what its EXIF says (no derived images)."""

    sha256: str
    byte_size: int
    content_type: str
    extension: str
    taken_at: datetime | None
    lon: float | None
    lat: float | None
    orientation: int | None


# What a client sends when it cannot tell a file's type (a phone's HEIC from the gallery).
UNDECLARED_TYPES = frozenset({"", "application/octet-stream"})
_SAME_FORMAT = {"image/heif": "image/heic", "image/jpg": "image/jpeg", "image/pjpeg": "image/jpeg"}


def check_declared_type(declared: str | None, detected: str, what: str = "文件") -> None:
    """Refuse a file whose content is not the type its request declared (a JPEG sent as
    text/html is refused, not stored as a photo); an undeclared type is no claim at all."""
    claimed = (declared or "").split(";")[0].strip().lower()
    if claimed in UNDECLARED_TYPES or _SAME_FORMAT.get(claimed, claimed) == _SAME_FORMAT.get(detected, detected):
        return
    raise InvalidInput(f"{what}内容是 {detected}，与声明的类型 {claimed} 不符，已拒收。",
                       {"Content-Type": ["与内容不符"]})


def sha256_hex(data: bytes) -> str:
    """The hex sha256 of some bytes."""
    return hashlib.sha256(data).hexdigest()


def process_upload(data: bytes, zone: str = "Asia/Shanghai") -> ProcessedPhoto:
    """Check and read an upload; raise InvalidInput with a Chinese reason for anything unusable.

    The pixels are decoded only as far as needed to prove the file whole (``_check_whole``),
    so a broken photo is refused at once while the derived images wait for the worker.
    """
    if not data:
        raise InvalidInput("照片内容为空，请重新拍摄上传。")
    image = _open(data)
    content_type, extension = FORMATS[image.format]
    taken_at, lon, lat = _exif_facts(image, ZoneInfo(zone))
    orientation = _orientation(image)
    size = image.size
    _check_whole(image, "照片文件不完整或已损坏，请重新上传。")
    return ProcessedPhoto(sha256_hex(data), len(data), size[0], size[1], content_type, extension,
                          taken_at, lon, lat, orientation)


def read_original(data: bytes, zone: str = "Asia/Shanghai") -> OriginalFile:
    """Check the camera's untouched file is a whole photo and read its EXIF.

    The display copy and thumbnail come from the phone's copy, so the original is decoded
    only as far as needed to prove it complete (a JPEG at 1/8 scale, which still reads every
    byte of the stream).
    """
    if not data:
        raise InvalidInput("原图内容为空，请重新上传。")
    image = _open(data)
    content_type, extension = FORMATS[image.format]
    taken_at, lon, lat = _exif_facts(image, ZoneInfo(zone))
    orientation = _orientation(image)
    _check_whole(image, "原图文件不完整或已损坏，请重新上传。")
    return OriginalFile(sha256_hex(data), len(data), content_type, extension, taken_at, lon, lat, orientation)


def _check_whole(image: Image.Image, message: str) -> None:
    """Decode the image cheaply (a JPEG at 1/8 scale, which still reads every byte of the stream)."""
    if image.format == "JPEG":
        image.draft("RGB", (max(1, image.width // 8), max(1, image.height // 8)))
    try:
        image.load()
    except DECODE_ERRORS as exc:
        raise InvalidInput(message) from exc


def _open(data: bytes) -> Image.Image:
    """Open and identify an image without decoding its pixels yet."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
    except DECODE_ERRORS as exc:
        raise InvalidInput("文件不是可识别的照片，或其中的数据块过大（仅支持 JPEG、PNG、HEIC）。") from exc
    if image.format not in FORMATS:
        raise InvalidInput(f"不支持的图片格式 {image.format}，仅支持 JPEG、PNG、HEIC。")
    width, height = image.size
    if width * height > MAX_PIXELS or width == 0 or height == 0:
        raise InvalidInput("照片像素过大或尺寸无效，已拒收。")
    return image


# EXIF orientation → the transpose that turns the picture upright.
UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _derivatives(image: Image.Image, orientation: int | None) -> tuple[bytes, bytes]:
    """The display copy and thumbnail, upright, RGB, with no metadata at all.

    Shrink first, turn upright after: rotating a 1600 px image costs a fraction of a 12 MP one.
    """
    width, height = image.size
    scale = DISPLAY_EDGE / max(width, height)
    if image.format == "JPEG" and scale < 1:
        # Let libjpeg decode at 1/2, 1/4 or 1/8 scale: ask in the image's own aspect.
        image.draft("RGB", (max(1, round(width * scale)), max(1, round(height * scale))))
    try:
        image.load()
        display = image.convert("RGB")
        display.thumbnail((DISPLAY_EDGE, DISPLAY_EDGE), Image.Resampling.BILINEAR, reducing_gap=2.0)
        if orientation in UPRIGHT:
            display = display.transpose(UPRIGHT[orientation])
        thumb = display.copy()
        thumb.thumbnail((THUMB_EDGE, THUMB_EDGE), Image.Resampling.BILINEAR, reducing_gap=2.0)
        return _jpeg(display, 85), _jpeg(thumb, 80)
    except DECODE_ERRORS as exc:
        raise InvalidInput("照片文件不完整或已损坏，请重新上传。") from exc


def _jpeg(image: Image.Image, quality: int) -> bytes:
    """Encode as a JPEG carrying no EXIF, XMP or ICC data."""
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _orientation(image: Image.Image) -> int | None:
    """The EXIF orientation (1-8) the camera wrote, or None."""
    try:
        value = image.getexif().get(ORIENTATION)
    except DECODE_ERRORS:
        return None
    return value if isinstance(value, int) and 1 <= value <= 8 else None


def _exif_facts(image: Image.Image, zone: ZoneInfo) -> tuple[datetime | None, float | None, float | None]:
    """DateTimeOriginal (in the phone's offset, else the city's zone) and the GPS position."""
    try:
        exif = image.getexif()
        details = exif.get_ifd(EXIF_IFD)
        gps = exif.get_ifd(GPS_IFD)
    except DECODE_ERRORS:
        return None, None, None
    return _taken_at(details, zone), *_gps_position(gps)


# The years a camera's DateTimeOriginal can stand for; outside them it is a clock never set
# (year 1), or a value that cannot be converted to UTC or shown, and is treated as absent.
EXIF_YEARS = range(1900, 9999)
# The widest UTC offsets in use (UTC-12 to UTC+14); '+30:00' is no time zone on earth.
MAX_OFFSET = timedelta(hours=14)


def _taken_at(details: dict, zone: ZoneInfo) -> datetime | None:
    """EXIF 'YYYY:MM:DD HH:MM:SS' as an aware UTC time, or None when it is missing or impossible.

    A photo's metadata never blocks the photo: an unreadable or impossible time is ignored.
    """
    raw = details.get(DATETIME_ORIGINAL)
    if not isinstance(raw, str):
        return None
    try:
        local = datetime.strptime(raw.strip()[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    if local.year not in EXIF_YEARS:
        return None
    tz = _parse_offset(details.get(OFFSET_TIME_ORIGINAL)) or zone
    try:
        return local.replace(tzinfo=tz).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def _parse_offset(offset) -> timezone | None:
    """'+08:00' → a fixed offset; None when absent, unreadable or beyond any real zone."""
    if not isinstance(offset, str) or len(offset) != 6 or offset[0] not in "+-" or offset[3] != ":":
        return None
    try:
        hours, minutes = int(offset[1:3]), int(offset[4:6])
    except ValueError:
        return None
    shift = timedelta(hours=hours, minutes=minutes)
    if minutes >= 60 or shift > MAX_OFFSET:
        return None
    return timezone(shift if offset[0] == "+" else -shift)


def _gps_position(gps: dict) -> tuple[float | None, float | None]:
    """Decimal lon/lat from EXIF GPS rationals (tags 1-4), or (None, None)."""
    try:
        lat = _degrees(gps[2]) * (-1 if gps.get(1) == "S" else 1)
        lon = _degrees(gps[4]) * (-1 if gps.get(3) == "W" else 1)
    except (KeyError, TypeError, ValueError, ZeroDivisionError, IndexError):
        return None, None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None, None
    return lon, lat


def _degrees(value) -> float:
    """(degrees, minutes, seconds) rationals → decimal degrees."""
    degrees, minutes, seconds = (float(part) for part in value)
    return degrees + minutes / 60 + seconds / 3600


# ---------------------------------------------------------------- storage


def photo_path(kind: str, sha: str, extension: str = "jpg") -> Path:
    """Where one variant of a photo lives under PHOTO_DIR."""
    return Path(current_app.config["PHOTO_DIR"]) / kind / sha[:2] / f"{sha}.{extension}"


def store_received(processed: ProcessedPhoto, data: bytes) -> None:
    """Keep the file as received, durably, once per content; its derivatives come later."""
    write_once(photo_path("original", processed.sha256, processed.extension), data)


def extension_for(content_type: str) -> str:
    """The file extension a stored photo of this content type has."""
    return next(extension for known, extension in FORMATS.values() if known == content_type)


def derivatives_exist(sha: str) -> bool:
    """Whether the display copy and thumbnail of this content are on disk already."""
    return photo_path("display", sha).exists() and photo_path("thumb", sha).exists()


def make_derivatives(sha: str, extension: str) -> None:
    """Make the display copy and thumbnail from the stored file (the worker's part of the pipeline)."""
    if derivatives_exist(sha):
        return
    image = _open(photo_path("original", sha, extension).read_bytes())
    display, thumb = _derivatives(image, _orientation(image))
    write_once(photo_path("display", sha), display)
    write_once(photo_path("thumb", sha), thumb)


def store_original(original: OriginalFile, data: bytes) -> None:
    """Keep the camera's untouched file beside the phone's copy, once per content."""
    write_once(photo_path("original", original.sha256, original.extension), data)


def stored_original(sha: str) -> tuple[Path, str]:
    """(path, content type) of a kept camera file, whichever format it came in."""
    for content_type, extension in FORMATS.values():
        path = photo_path("original", sha, extension)
        if path.exists():
            return path, content_type
    raise FileNotFoundError(sha)


def write_once(path: Path, data: bytes) -> None:
    """Write content-addressed bytes once, atomically and durably, so readers never see half a file.

    The bytes are flushed to disk before the rename, and the folder after it, so a file
    acknowledged to the phone survives a power cut. Each writer has its own temporary file:
    two requests storing the same content at once (one photo sent under two ids) must not
    write into, or rename away, each other's.
    """
    if path.exists():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{uuid.uuid4().hex}.tmp")
    with temporary.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
