"""Petitioners' personal data: who sees it whole, who sees it masked (DOMAIN.md, Privacy), and
what a text meant for the public may not say."""

import re

from app.models import Case, User
from app.services.access import Action, can, cases_in_scope, may


def mask_name(name: str | None) -> str | None:
    """Keep the surname, star the rest: 张三丰 → 张**."""
    if not name:
        return name
    return name[0] + "*" * max(len(name) - 1, 1)


def mask_phone(phone: str | None) -> str | None:
    """Keep only the last four digits: 13812345678 → *******5678."""
    if not phone:
        return phone
    return "*" * max(len(phone) - 4, 0) + phone[-4:]


def petitioner_view(case: Case, user: User) -> dict:
    """The petitioner block of a case as this user may see it."""
    return _petitioner_block(case, can(user, Action.VIEW_PERSONAL_DATA, case))


def petitioner_views(cases: list[Case], user: User) -> dict[int, dict]:
    """The petitioner block of each case by id, deciding scope for the whole page in one query."""
    whole = cases_in_scope(user, [c.id for c in cases]) if may(user, Action.VIEW_PERSONAL_DATA) else set()
    return {case.id: _petitioner_block(case, case.id in whole) for case in cases}


def _petitioner_block(case: Case, whole: bool) -> dict:
    """The petitioner block: nothing for an anonymous case, whole for a handler, else masked."""
    if case.anonymous:
        return {"anonymous": True, "name": None, "phone": None, "id_number": None, "masked": False}
    if whole:
        return {
            "anonymous": False,
            "name": case.petitioner_name,
            "phone": case.petitioner_phone,
            "id_number": case.petitioner_id_number,
            "masked": False,
        }
    return {
        "anonymous": False,
        "name": mask_name(case.petitioner_name),
        "phone": mask_phone(case.petitioner_phone),
        "id_number": None,
        "masked": True,
    }


# Phone and ID numbers in free text: a run of 7 or more digits (an ID number may end in X),
# or a mobile number written in groups (139-0000-1111, 139 0000 1111). Dates stay readable.
_NUMBERS = re.compile(r"\d{7,}[Xx]?|1\d{2}[-\s]\d{4}[-\s]\d{4}")


def personal_data_in(text: str, case: Case) -> list[str]:
    """What of the petitioner a text meant for the public names: their name, a phone or ID
    number, or the case's address (which may be where the petitioner lives). Empty when clean."""
    found = []
    if case.petitioner_name and case.petitioner_name in text:
        found.append("信访人姓名")
    if _NUMBERS.search(text):
        found.append("电话或证件号码")
    if case.address and case.address.strip() and case.address.strip() in text:
        found.append("详细地址")
    return found


def public_text(text: str, case: Case) -> str:
    """A staff-written text made fit for a public page: the petitioner's name, any phone or ID
    number and the case's address are replaced, whoever wrote them there."""
    if case.petitioner_name:
        text = text.replace(case.petitioner_name, "信访人")
    if case.address and case.address.strip():
        text = text.replace(case.address.strip(), "（地址略）")
    return _NUMBERS.sub("***", text)
