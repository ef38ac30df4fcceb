"""Third-party front-end files installed by npm (package.json), served from node_modules.

Only the listed packages' distribution folders are reachable, so nothing else under
node_modules leaks out. Command rooms run on closed networks: no CDN is ever used.
"""

from pathlib import Path

from flask import Blueprint, abort, current_app, send_from_directory

bp = Blueprint("vendor", __name__, url_prefix="/vendor")

PACKAGES = {
    "swagger-ui": "swagger-ui-dist",
    "leaflet": "leaflet/dist",
    "idb": "idb/build",
    "qrcode-generator": "qrcode-generator/dist",
    "exifr": "exifr/dist",
}


@bp.get("/<package>/<path:filename>")
def vendor_file(package: str, filename: str):
    """Serve one file from an allowed npm package, cached for a day."""
    folder = PACKAGES.get(package)
    if folder is None:
        abort(404)
    root = Path(current_app.root_path).parent / "node_modules" / folder
    return send_from_directory(root, filename, max_age=86400)
