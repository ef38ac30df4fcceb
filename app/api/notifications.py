"""The signed-in user's notifications: the badge the desk polls, and marking them read."""

from flask_login import current_user, login_required

from app.api.arguments import ApiBlueprint
from app.extensions import db
from app.schemas.notifications import MarkReadSchema, NotificationSummarySchema
from app.services.cases import notifications

blp = ApiBlueprint("notifications", __name__, description="消息 Notifications")


@blp.route("/summary", methods=["GET"])
@login_required
@blp.response(200, NotificationSummarySchema)
def get_summary():
    """How many of my notifications are unread, and the newest unread ones (cheap: the desk polls it)."""
    return notifications.summary(current_user)


@blp.route("/read", methods=["POST"])
@login_required
@blp.arguments(MarkReadSchema)
@blp.response(200, NotificationSummarySchema)
def post_read(body):
    """Mark some of my notifications (or all) as read; answers the new summary."""
    notifications.mark_read_many(current_user, body["ids"])
    db.session.commit()
    return notifications.summary(current_user)
