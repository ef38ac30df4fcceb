"""The command office's map wall (挂图作战大屏) at /wall: a full-screen page, no scrolling."""

from flask import Blueprint, current_app, render_template
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import db
from app.models import Grid
from app.models.vocab import Category, Channel, DeadlineState, WallFlag
from app.services.access import require
from app.services.geo.place_names import city_name
from app.services.wall.clusters import STATE_RANKS

bp = Blueprint("wallpage", __name__, url_prefix="/wall", template_folder="templates")


@bp.get("/")
@login_required
def wall_page():
    """The map wall; ``?kiosk=1`` starts the tour of the towns at once."""
    require(current_user, "wall", "挂图作战大屏仅供指挥部办公室使用。")
    config = current_app.config
    towns = db.session.scalars(select(Grid).where(Grid.level == 2).order_by(Grid.code)).all()
    # The wall's words for its deadline states (worst first) and flags; wall.js reads the same table.
    states = {state: state.label for state in sorted(STATE_RANKS, key=STATE_RANKS.get, reverse=True)}
    # Grey on the wall is every case no longer open: 销号, and declined or transferred at intake
    # (the panels' 已销号 counts 销号 alone), so the wall does not call them all 已销号.
    states[DeadlineState.CLOSED] = "已结束"
    return render_template(
        "wall/wall.html", city=city_name(), towns=towns, categories=Category.labels(), channels=Channel.labels(),
        labels={"deadline_states": states, "flags": WallFlag.labels()},
        tile_url=config["WALL_TILE_URL"], tile_system=config["WALL_TILE_SYSTEM"],
        tile_subdomains=config["WALL_TILE_SUBDOMAINS"],
        kiosk_seconds=config["WALL_KIOSK_SECONDS"],
    )
