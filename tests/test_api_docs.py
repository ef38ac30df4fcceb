"""The OpenAPI document and the page that shows it."""

import re


def test_openapi_document_lists_every_resource(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/me", "/api/v1/cases",
                 "/api/v1/cases/{case_id}", "/api/v1/grids"):
        assert path in paths, path
    assert "Case" in spec["components"]["schemas"]
    assert paths["/api/v1/cases"]["get"]["summary"]


def test_docs_page_uses_local_swagger_ui(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    assert "/vendor/swagger-ui/swagger-ui-bundle.js" in page.text
    # Every script and style comes from this server (a nonce may spell "cdn" by chance).
    sources = re.findall(r'(?:src|href)="([^"]*)"', page.text)
    assert sources and all(url.startswith("/") and not url.startswith("//") for url in sources), sources
    with client.get("/vendor/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
        assert bundle.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/vendor/nothing/x.js").status_code == 404
    assert client.get("/vendor/swagger-ui/../../package.json").status_code == 404


def operations(spec):
    """(method, path, operation) of every operation in the document."""
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method, path, operation


def resolved(spec, response):
    """A response object, its $ref followed."""
    ref = response.get("$ref")
    return spec["components"]["responses"][ref.rsplit("/", 1)[1]] if ref else response


def test_every_operation_documents_its_answer_and_its_refusals(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    error_ref = {"$ref": "#/components/schemas/Error"}
    for method, path, operation in operations(spec):
        responses = {code: resolved(spec, r) for code, r in operation["responses"].items()}
        assert "default" not in responses, (method, path)
        success = [code for code in responses if code.startswith("2")]
        assert success, f"{method} {path} documents no success answer"
        assert all(responses[code].get("content") for code in success if code != "204"), (method, path)
        assert {"400", "429", "503"} <= set(responses), (method, path)
        if path.startswith("/api/v1/wall") or path == "/api/v1/cases":
            assert {"401", "403"} <= set(responses), (method, path)
        for code, response in responses.items():
            if code.startswith(("4", "5")):
                assert response["content"]["application/json"]["schema"] == error_ref, (method, path, code)


def test_the_error_schema_is_the_body_the_api_sends(client, city):
    spec = client.get("/api/v1/openapi.json").get_json()
    error = spec["components"]["schemas"]["Error"]
    body = client.get(f"/api/v1/cases/{city.cases['V11'].id}").get_json()  # not signed in: 401
    assert set(body) == set(error["properties"]) == set(error["required"])
    assert body["message"] == "请先登录。" and body["description"]


def test_bounds_in_the_document_are_numbers(client):
    spec = client.get("/api/v1/openapi.json").get_json()

    def bounds(node):
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("minimum", "maximum", "minLength", "maxLength", "minItems", "maxItems"):
                    yield key, value
                yield from bounds(value)
        elif isinstance(node, list):
            for value in node:
                yield from bounds(value)

    found = list(bounds(spec))
    assert found and all(isinstance(v, int | float) and not isinstance(v, bool) for _, v in found), \
        [b for b in found if not isinstance(b[1], int | float)]


def test_files_and_maps_say_their_media_type(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    expected = {
        "/api/v1/exports/{job_id}/file": {xlsx}, "/api/v1/exports/ranking.xlsx": {xlsx},
        "/api/v1/patrol-compliance/export.xlsx": {xlsx}, "/api/v1/sources/import-template": {xlsx},
        "/api/v1/photos/{photo_id}/{variant}": {"image/jpeg", "image/png", "image/heic"},
        "/api/v1/attachments/{attachment_id}": {"application/pdf", "image/jpeg", "image/png", "image/heic"},
        "/api/v1/exports/cases.geojson": {"application/geo+json"}, "/api/v1/grids": {"application/geo+json"},
        "/api/v1/sources": {"application/json", "application/geo+json"},
        "/api/v1/wall/events": {"text/event-stream"},
    }
    for path, media_types in expected.items():
        assert set(spec["paths"][path]["get"]["responses"]["200"]["content"]) == media_types, path
