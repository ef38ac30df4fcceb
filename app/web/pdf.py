"""Pages as PDF (WeasyPrint): the same HTML and print stylesheet the browser prints, with the
Chinese fonts embedded, and nothing fetched from outside the app.

A closed network has no internet, and a page rendered on the server must not make the server
call arbitrary URLs: only the app's own static files and ``data:`` URIs are read.
"""

from pathlib import Path
from urllib.parse import urlsplit

from flask import Response, current_app, request
from PIL import ImageFile
from weasyprint import HTML
from weasyprint.urls import URLFetcher, URLFetcherResponse

from app.downloads import attachment

# Importing WeasyPrint tells Pillow, for the whole process, to accept truncated images. An
# inspector's half-uploaded photo must be refused (the phone then sends it again), so the
# process keeps Pillow's strict default; the pages rendered here carry no photos.
ImageFile.LOAD_TRUNCATED_IMAGES = False


class LocalFetcher(URLFetcher):
    """Reads ``/static/...`` from disk and ``data:`` URIs; refuses everything else."""

    def __init__(self, static_dir: Path, static_prefix: str):
        super().__init__(allowed_protocols={"http", "https", "data"})
        self.static_dir = static_dir.resolve()
        self.static_prefix = static_prefix

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = urlsplit(url).path
        if not path.startswith(self.static_prefix):
            raise ValueError(f"不读取外部资源：{url}")
        target = (self.static_dir / path.removeprefix(self.static_prefix)).resolve()
        if not target.is_relative_to(self.static_dir) or not target.is_file():
            raise ValueError(f"无此静态文件：{path}")
        kind = "text/css" if target.suffix == ".css" else "image/svg+xml" if target.suffix == ".svg" else ""
        return URLFetcherResponse(url, target.read_bytes(), {"Content-Type": kind} if kind else {})


def pdf_response(html: str, name: str, ascii_name: str) -> Response:
    """Render ``html`` (print media, A4 from its stylesheet) and send it as a download named
    ``name`` (and ``ascii_name`` for clients that read only the plain file name)."""
    fetcher = LocalFetcher(Path(current_app.static_folder), current_app.static_url_path.rstrip("/") + "/")
    document = HTML(string=html, base_url=request.url_root, url_fetcher=fetcher).write_pdf()
    return attachment(document, "application/pdf", name, ascii_name)
