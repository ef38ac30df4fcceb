"""Extension instances, created unbound so that create_app() can bind them to each app."""

from flask_compress import Compress
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from app.schemas.common import ErrorSchema


class Base(DeclarativeBase):
    """Declarative base for every Firstline model."""


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()


class DocumentedApi(Api):
    """flask-smorest's Api, documenting the app's own error body instead of flask-smorest's.

    No catch-all ``default`` response: each operation lists the error statuses it can
    answer (``app.api.docs``), so a status the document does not name is a finding.
    """

    ERROR_SCHEMA = ErrorSchema
    DEFAULT_ERROR_RESPONSE_NAME = None


api = DocumentedApi()
compress = Compress()
