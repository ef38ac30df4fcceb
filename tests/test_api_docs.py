"""The OpenAPI document and the page that shows it."""


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
    assert "cdn" not in page.text.lower()
    with client.get("/vendor/swagger-ui/swagger-ui-bundle.js") as bundle:
        assert bundle.status_code == 200
        assert bundle.headers["Cache-Control"] == "public, max-age=86400"
    assert client.get("/vendor/nothing/x.js").status_code == 404
    assert client.get("/vendor/swagger-ui/../../package.json").status_code == 404
