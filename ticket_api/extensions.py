"""The extension singletons, bound to an app by `init_app` in `create_app`.

`Api` and `Blueprint` are flask-smorest's, tuned to this API's dialect: validation
errors are 400 (not 422) and every error body is `{"message": ..., "errors"?: ...}`.
"""

import flask_smorest
from flask_cors import CORS
from flask_jwt_extended import JWTManager
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from webargs.flaskparser import FlaskParser

from . import errors


class Parser(FlaskParser):
    DEFAULT_VALIDATION_STATUS = 400


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = Parser()

    def error(self, status_code, message, description=None):
        """Document an error reply a client must handle, with its exact body as the example."""
        return self.alt_response(
            status_code,
            schema=errors.ErrorSchema,
            description=description or message,
            example={"message": message},
        )


class Api(flask_smorest.Api):
    ERROR_SCHEMA = errors.ErrorSchema

    def handle_http_exception(self, error):
        return errors.http_error_response(error)


api = Api()
jwt = JWTManager()
limiter = Limiter(get_remote_address, strategy="moving-window", headers_enabled=True)
cors = CORS()
