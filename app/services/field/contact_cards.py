"""Contact cards (联系卡): codes reserved per device for offline issue, the card itself, and
what the citizen sees and rates on the public status page."""

import json
from dataclasses import dataclass
from datetime import datetime

from geoalchemy2.shape import from_shape, to_shape
from shapely.geometry import Point
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import Conflict, InvalidInput, NotFound, TransientConflict
from app.extensions import db
from app.models import CardCodeBlock, Case, ContactCard, FollowUp, User
from app.models.types import SRID
from app.models.vocab import CaseStatus, Satisfaction
from app.services import clock
from app.services.access import authorize, require_field_user
from app.services.cases.lifecycle import record_follow_up
from app.services.cases.timeline import append_event
from app.services.field.idempotent import canonical_json, conflict_versions, content_sha, insert_once

MAX_BLOCK = 50
# Codes are 40-bit serials scrambled by an affine bijection, so consecutive cards do not
# get guessable neighbouring codes, written in Crockford base32 (no I, L, O, U).
_BITS = 40
_MASK = (1 << _BITS) - 1
_MULTIPLIER = 0x9E3779B97 | 1
_INVERSE = pow(_MULTIPLIER, -1, 1 << _BITS)
_OFFSET = 0x5A5A5A5A5
_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def encode_code(serial: int) -> str:
    """Serial → printed code such as 'K7Q2-9XMA'."""
    value = (serial * _MULTIPLIER + _OFFSET) & _MASK
    chars = "".join(_ALPHABET[(value >> shift) & 31] for shift in range(35, -1, -5))
    return f"{chars[:4]}-{chars[4:]}"


def decode_code(code: str) -> int | None:
    """Printed code → serial, or None when it is not a code at all."""
    text = code.strip().upper().replace("-", "").replace("O", "0").replace("I", "1").replace("L", "1")
    if len(text) != 8 or any(c not in _ALPHABET for c in text):
        return None
    value = 0
    for char in text:
        value = (value << 5) | _ALPHABET.index(char)
    serial = ((value - _OFFSET) * _INVERSE) & _MASK
    return serial if 0 < serial < 2**31 else None  # reserved serials are small; the rest are typos


def reserve_codes(user: User, device_id: str, count: int) -> list[str]:
    """Reserve a block of card codes for one device (races retry on the unique first serial)."""
    require_field_user(user)
    if not 1 <= count <= MAX_BLOCK:
        raise InvalidInput(f"每次可预留 1 至 {MAX_BLOCK} 个联系卡编号。", {"count": ["超出范围"]})
    for _ in range(5):
        first = (db.session.scalar(select(func.max(CardCodeBlock.last_serial))) or 0) + 1
        try:
            with db.session.begin_nested():
                db.session.add(CardCodeBlock(user_id=user.id, device_id=device_id, first_serial=first,
                                             last_serial=first + count - 1, reserved_at=clock.now()))
            return [encode_code(serial) for serial in range(first, first + count)]
        except IntegrityError:
            continue
    raise TransientConflict()


def put_card(user: User, code: str, body: dict) -> tuple[ContactCard, bool]:
    """Store a card issued (perhaps offline) under a code this user's device reserved."""
    require_field_user(user)
    serial = decode_code(code)
    if serial is None or not _reserved_by(user, serial):
        raise InvalidInput("联系卡编号无效，或不是本人设备预留的编号。", {"code": ["无效"]})
    sha, code = content_sha(body), encode_code(serial)

    def stored() -> ContactCard | None:
        return db.session.scalar(select(ContactCard).where(ContactCard.code == code))

    existing = stored()
    if existing is None:
        case = authorize(user, body["case_id"])
        card = _new_card(user, code, body, sha, case)
        existing = insert_once(card, stored)
        if existing is None:
            append_event(case, "contact_card", user, note=f"发放联系卡 {card.code}",
                         data={"code": card.code, "issued_at": card.issued_at.isoformat()}, at=clock.now())
            return card, True
    if existing.content_sha256 == sha and existing.issued_by_id == user.id:
        return existing, False
    raise Conflict("该联系卡编号已使用且内容不同。",
                   conflict_versions(user, existing.issued_by_id, existing.code, lambda: card_body(existing), body))


def card_body(card: ContactCard) -> dict:
    """The stored card in the upload's own shape, to show its issuer beside a conflicting resend."""
    point = to_shape(card.location) if card.location is not None else None
    return json.loads(canonical_json({
        "case_id": card.case_id, "handler_name": card.handler_name, "handler_phone": card.handler_phone,
        "handler_unit": card.handler_unit, "expected_reply_at": card.expected_reply_at,
        "issued_at": card.issued_at, "device_id": card.device_id,
        "location": {"lon": point.x, "lat": point.y} if point else None,
    }))


def _reserved_by(user: User, serial: int) -> bool:
    """True when the serial lies in one of the user's reserved blocks."""
    query = select(CardCodeBlock.id).where(CardCodeBlock.user_id == user.id, CardCodeBlock.first_serial <= serial,
                                           CardCodeBlock.last_serial >= serial)
    return db.session.scalar(query.limit(1)) is not None


def _new_card(user: User, code: str, body: dict, sha: str, case: Case) -> ContactCard:
    """The card row from the uploaded body."""
    where = body.get("location")
    point = from_shape(Point(where["lon"], where["lat"]), srid=SRID) if where else None
    return ContactCard(
        code=code, case_id=case.id, issued_by_id=user.id, handler_name=body["handler_name"],
        handler_phone=body["handler_phone"], handler_unit=body["handler_unit"],
        expected_reply_at=body.get("expected_reply_at"), issued_at=body["issued_at"], location=point,
        device_id=body.get("device_id"), content_sha256=sha, received_at=clock.now(),
    )


# ---------------------------------------------------------------- the public status page

PUBLIC_STEPS = [
    (CaseStatus.REGISTERED, "已登记"),
    (CaseStatus.ACCEPTED, "已受理"),
    (CaseStatus.ASSIGNED, "已交办承办单位"),
    (CaseStatus.SIGNED, "承办单位已签收"),
    (CaseStatus.HANDLING, "正在办理"),
    (CaseStatus.REPLIED, "已答复"),
    (CaseStatus.CLOSED, "已办结销号"),
]
_ORDER = {status: i for i, (status, _) in enumerate(PUBLIC_STEPS)}
_ORDER.update({
    CaseStatus.RETURN_REQUESTED: _ORDER[CaseStatus.ASSIGNED],
    CaseStatus.REVIEWED: _ORDER[CaseStatus.REPLIED],
    CaseStatus.FOLLOWED_UP: _ORDER[CaseStatus.REPLIED],
})
RATEABLE = {CaseStatus.REPLIED, CaseStatus.REVIEWED, CaseStatus.FOLLOWED_UP, CaseStatus.CLOSED}


@dataclass
class PublicView:
    """What anyone holding the card may see: no personal data, no internal notes."""

    card: ContactCard
    case: Case
    reached: int
    rating: FollowUp | None
    can_rate: bool


def public_view(code: str) -> PublicView:
    """The case behind a card, for the public page; NotFound for unknown codes."""
    serial = decode_code(code)
    card = db.session.scalar(select(ContactCard).where(ContactCard.code == encode_code(serial))) if serial else None
    if card is None:
        raise NotFound("未找到该联系卡，请核对卡上的编号。")
    case = db.session.get(Case, card.case_id)
    rating = db.session.scalar(select(FollowUp).where(FollowUp.contact_card_id == card.id))
    reached = _ORDER.get(case.status, -1)
    finished = case.status in {CaseStatus.DECLINED, CaseStatus.TRANSFERRED}
    return PublicView(card, case, len(PUBLIC_STEPS) - 1 if finished else reached, rating,
                      rating is None and case.status in RATEABLE)


def rate(code: str, satisfaction: str, note: str) -> FollowUp:
    """The citizen's one rating for a card; a dissatisfied one reopens the case."""
    view = public_view(code)
    if view.rating is not None:
        raise Conflict("您已评价过，感谢您的反馈。")
    if not view.can_rate:
        raise Conflict("案件答复后才能评价。")
    if satisfaction not in Satisfaction.labels():
        raise InvalidInput("请选择满意、基本满意或不满意。", {"satisfaction": ["必选"]})
    now: datetime = clock.now()
    before = view.case.status
    follow_up = record_follow_up(view.case, None, satisfaction, "", note[:500], "public", now,
                                 contact_card_id=view.card.id)
    append_event(view.case, "public_rating", None, note="群众通过联系卡评价",
                 data={"from": before, "to": view.case.status, "satisfaction": satisfaction}, at=now)
    return follow_up
