"""Every capability named in code or a template is a row of access.CAPABILITIES.

``may`` raises on a name it does not know, so a misspelt name would be a 500 on the page or
endpoint that asks; this finds one before anybody opens that page.
"""

import re
from pathlib import Path

from app.services.access import CAPABILITIES

APP = Path(__file__).resolve().parent.parent / "app"
ASKED = re.compile(r"""\b(?:may|require)\((?:current_user|user|actor), ["']([a-z_]+)["']""")


def test_every_capability_asked_for_is_in_the_table():
    asked = {}
    for path in [*APP.rglob("*.py"), *APP.rglob("*.html")]:
        for name in ASKED.findall(path.read_text(encoding="utf-8")):
            asked.setdefault(name, path.relative_to(APP).as_posix())
    assert len(asked) >= 15  # the pattern still finds the calls
    assert {name: where for name, where in asked.items() if name not in CAPABILITIES} == {}
