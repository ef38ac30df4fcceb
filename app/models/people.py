"""People who sign in: inspectors, supervisors, officers, leaders, the command office."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from app.extensions import db
from app.models.grids import Department, Grid
from app.models.types import UTCDateTime, utcnow
from app.models.vocab import Role


class User(UserMixin, db.Model):
    """A person with an account (用户). Their role and grid or department set their scope."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    full_name: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(32), index=True)
    grid_id: Mapped[int | None] = mapped_column(ForeignKey("grids.id"), index=True)
    department_id: Mapped[int | None] = mapped_column(ForeignKey("departments.id"), index=True)
    phone: Mapped[str] = mapped_column(String(32), default="")
    unit: Mapped[str] = mapped_column(String(100), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set when an admin resets the password: the next sign-in must choose a new one.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    # Bumped to sign the user out of every device: the login cookie carries it.
    session_version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    grid: Mapped[Grid | None] = relationship()
    department: Mapped[Department | None] = relationship()

    @property
    def is_active(self) -> bool:
        """Flask-Login refuses sessions of deactivated users."""
        return self.active

    @property
    def role_enum(self) -> Role:
        """The role as its enum, with its Chinese label."""
        return Role(self.role)

    def get_id(self) -> str:
        """Session identity: id plus session version, so a bump ends old sessions."""
        return f"{self.id}:{self.session_version}"

    def set_password(self, password: str) -> None:
        """Store a salted hash, never the password."""
        self.password_hash = generate_password_hash(password)

    def check_password(self, password: str) -> bool:
        """True when the password matches the stored hash."""
        return check_password_hash(self.password_hash, password)

    def __repr__(self) -> str:
        return f"<User {self.username} {self.role}>"


class UserSession(db.Model):
    """One signed-in browser or phone (登录会话), checked on every request.

    The session cookie carries a random token; only its sha256 is stored (``id``). Signing
    out ends this record, so a copy of the cookie taken before is refused afterwards. A
    record also dies with its user's ``session_version`` (sign out everywhere, a new
    password, deactivation), without touching every record.
    """

    __tablename__ = "user_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    session_version: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
