"""Ids in URLs: `<objectid:...>` hands the view an `ObjectId`, or is a 400 naming the variable."""

import re

import werkzeug.routing
from bson import ObjectId
from werkzeug.exceptions import BadRequest

from .errors import INVALID_DATA
from .schemas import ObjectIdField

NOT_AN_ID = ObjectIdField.default_error_messages["invalid"]
ID_VARIABLE = re.compile(r"<objectid:(\w+)>")  # in a rule


class MalformedId(BadRequest):
    def __init__(self, name):
        super().__init__()
        self.data = {"message": INVALID_DATA, "errors": {"path": {name: [NOT_AN_ID]}}}


class ObjectIdConverter(werkzeug.routing.BaseConverter):
    def to_python(self, value):
        if not ObjectId.is_valid(value):
            raise MalformedId(self.variable_name)
        return ObjectId(value)

    def to_url(self, value):
        return str(value)


class Rule(werkzeug.routing.Rule):
    """Flask's URL rule, telling each converter the name of its variable (for its 400)."""

    def get_converter(self, variable_name, converter_name, args, kwargs):
        converter = super().get_converter(variable_name, converter_name, args, kwargs)
        converter.variable_name = variable_name
        return converter


def init_app(app, api):
    """Before any blueprint is registered: `<objectid:...>` in rules, and in the document."""
    app.url_rule_class = Rule
    app.url_map.converters["objectid"] = ObjectIdConverter
    api.register_converter(ObjectIdConverter, lambda converter: {"type": "string", **ObjectIdField().metadata})
