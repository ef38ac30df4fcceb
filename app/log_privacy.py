"""Keep petitioners' personal data out of the logs (DOMAIN.md, Privacy).

Two measures: the database engine never puts statement parameters into error messages
(``hide_parameters`` in config.SQLALCHEMY_ENGINE_OPTIONS), so a failed INSERT of a case does not log the
petitioner's name or phone; and a filter on the app's, the request log's and gunicorn's
loggers replaces anything shaped like a mainland mobile number or a resident ID number,
in the message and in any traceback, before a handler writes it.
"""

import logging
import re

from flask import Flask

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[0-9Xx](?![0-9A-Za-z])")
LOGGERS = ("werkzeug", "gunicorn.access", "gunicorn.error", "sqlalchemy.engine")


def redact(text: str) -> str:
    """The text with ID numbers and mobile numbers replaced by a placeholder."""
    return MOBILE.sub("[手机号已隐去]", ID_NUMBER.sub("[身份证号已隐去]", text))


class PersonalDataFilter(logging.Filter):
    """Rewrite a record's message and traceback with personal numbers removed."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        return True


_filter = PersonalDataFilter()


def init_log_privacy(app: Flask) -> None:
    """Filter every logger that may see a request or a failed statement."""
    for logger in (app.logger, *(logging.getLogger(name) for name in LOGGERS)):
        if _filter not in logger.filters:
            logger.addFilter(_filter)
