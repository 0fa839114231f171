"""API docs and the favicon, served by each service itself: `/docs` works without internet.

FastAPI's own `/docs` loads Swagger UI from a CDN, so it is blank offline. Here its files
come from the `fastapi-offline` package (its `static` folder holds a recent Swagger UI 5
build), mounted at `/docs/assets`. The page runs no inline script (Swagger UI starts from
`shared/static/swagger-init.js`), so its policy can say `script-src 'self'`. ReDoc is not
offered: its page loads its logo from a CDN. Build the app with
`FastAPI(docs_url=None, redoc_url=None)`, then call `install_docs(app)`.
"""

from html import escape
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import FileResponse, HTMLResponse, Response

SWAGGER_UI_DIR = Path(fastapi_offline.__file__).parent / "static"
_STATIC = Path(__file__).parent / "static"
ASSETS_PATH = "/docs/assets"

DOCS_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
_LONG_CACHE = {"Cache-Control": "public, max-age=86400"}

_SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} - API docs</title>
<link rel="icon" href="{root}/favicon.ico" type="image/svg+xml">
<link rel="stylesheet" href="{root}{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-openapi-url="{root}{openapi}"></div>
<script src="{root}{assets}/swagger-ui-bundle.js"></script>
<script src="{root}/docs/swagger-init.js"></script>
</body>
</html>
"""


def install_docs(app: FastAPI) -> None:
    """`/docs` (Swagger UI), its same-origin assets, and `/favicon.ico`."""
    if app.docs_url or app.redoc_url:
        raise ValueError("build the app with docs_url=None, redoc_url=None")
    openapi = app.openapi_url or "/openapi.json"
    title = escape(app.title)

    def swagger_ui(request: Request) -> Response:
        root = escape(request.scope.get("root_path", ""))
        page = _SWAGGER_PAGE.format(title=title, root=root, assets=ASSETS_PATH, openapi=openapi)
        return HTMLResponse(page, headers=DOCS_HEADERS)

    def swagger_init() -> Response:
        return FileResponse(
            _STATIC / "swagger-init.js", media_type="text/javascript", headers=_LONG_CACHE
        )

    def favicon() -> Response:
        icon = _STATIC / "favicon.svg"
        return FileResponse(icon, media_type="image/svg+xml", headers=_LONG_CACHE)

    app.add_api_route("/docs", swagger_ui, include_in_schema=False)
    app.add_api_route("/docs/swagger-init.js", swagger_init, include_in_schema=False)
    app.add_api_route("/favicon.ico", favicon, include_in_schema=False)
    app.mount(ASSETS_PATH, StaticFiles(directory=SWAGGER_UI_DIR), name="docs-assets")
