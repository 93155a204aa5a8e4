"""`GET /docs`: Swagger UI on `/openapi.json`, its JS and CSS served from the pinned
swagger-ui-bundle package, never a CDN (a venue's laptop may be offline)."""

from flask import send_from_directory
from swagger_ui_bundle import swagger_ui_path

ASSETS_URL = "/docs/assets/"

SETTINGS = {
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    "OPENAPI_SWAGGER_UI_URL": ASSETS_URL,
    # "Authorize" once with a token from /auth/login; "Try it out" then sends it.
    "OPENAPI_SWAGGER_UI_CONFIG": {"persistAuthorization": True, "tryItOutEnabled": True},
}


def register_assets(app):
    @app.route(f"{ASSETS_URL}<path:filename>", endpoint="docs_assets")
    def docs_assets(filename):
        return send_from_directory(swagger_ui_path, filename, max_age=86400)
