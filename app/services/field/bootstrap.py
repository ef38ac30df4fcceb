"""What the inspector app downloads to work offline.

Everything the app shows without a network comes from here, once per sign-in and on each
refresh: the inspector's grid polygon, its open cases, today's patrol (the sources of the
grid with their due state, as ``GET /api/v1/patrol/today`` gives it) and the settings the
phone applies by itself (GPS accuracy limits, the check-in radius, the track interval).
"""

from flask import current_app
from sqlalchemy import select

from app.errors import Forbidden
from app.extensions import db
from app.models import Grid, User
from app.models.vocab import DeadlineState, NoPhotoReason, PatrolDueState, Role
from app.services import clock
from app.services.cases import notifications
from app.services.cases.queries import case_views, list_cases
from app.services.field import onsite_rules
from app.services.geo.grid_geojson import grid_feature
from app.services.patrols import rounds
from app.services.settings import get_setting

MAX_OFFLINE_CASES = 500


def bootstrap_for(user: User) -> dict:
    """My grid's polygon, its open cases (nearest due first, personal data masked), today's patrol, settings.

    The user, the cases and the news come as objects (a ``User``, ``CaseView``s, ``Notification``s) for the API to dump
    with its schemas; the rest is plain JSON data already.
    """
    if user.role != Role.INSPECTOR or user.grid_id is None:
        raise Forbidden("移动端仅供三级网格员使用。")
    grid = db.session.scalar(select(Grid).where(Grid.id == user.grid_id))
    cases = list_cases(user, page=1, per_page=MAX_OFFLINE_CASES, open=True)["items"]
    return {
        "user": user,
        "grid": grid_feature(grid),
        "cases": case_views(user, cases),
        "patrol": rounds.today_for(user),
        "settings": {
            "gps_accept_m": get_setting("gps_accept_m"),
            "gps_warn_m": get_setting("gps_warn_m"),
            "photo_long_edge_px": 1600,
            "max_upload_bytes": _max_upload(),
            "patrol_radius_m": get_setting("patrol_radius_m"),
            "patrol_track_interval_s": get_setting("patrol_track_interval_s"),
            "onsite_max_distance_m": get_setting("onsite_max_distance_m"),
            "onsite_max_accuracy_m": get_setting("onsite_max_accuracy_m"),
            "photo_max_age_minutes": get_setting("photo_max_age_minutes"),
            "photo_far_m": get_setting("photo_far_m"),
            "upload_originals_on_wifi": get_setting("upload_originals_on_wifi"),
        },
        "labels": {"deadline_states": DeadlineState.labels(), "patrol_states": PatrolDueState.labels()},
        "no_photo_reasons": NoPhotoReason.labels(),
        # The case states in which the phone offers an on-site check (the server's one rule).
        "onsite_states": sorted(onsite_rules.ONSITE_STATES),
        "server_time": clock.now().isoformat(),
        # What changed for me since I last looked: the badge and the short list on the task screen.
        "news": notifications.summary(user),
    }


def _max_upload() -> int:
    """The largest request body the server takes."""
    return int(current_app.config["MAX_CONTENT_LENGTH"])
