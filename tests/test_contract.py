"""A contract fuzz: schemathesis generates requests for every operation of `/openapi.json`
and checks that no answer is a 5xx and every answer matches its documented status and
schema. (Driven through hypothesis directly: schemathesis 4.32's lazy pytest loader reads
a node attribute that pytest 9 no longer has.)"""

from hypothesis import HealthCheck, given, settings
from schemathesis import openapi
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

EXAMPLES_PER_OPERATION = 60
# What the contract promises. Not "schema-valid data is accepted": by API.md a valid
# request can still be refused (a wrong password is 400 "Invalid credentials", an event
# that started is 400, a different amount is 400).
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]


def test_every_operation_keeps_its_contract(app, auth):
    admin = auth.admin_headers()
    schema = openapi.from_wsgi("/openapi.json", app)
    # ASCII strings: a password's limits are in UTF-8 bytes, which JSON Schema's
    # minLength/maxLength (characters) can only state exactly for ASCII.
    schema.config.generation.update(codec="ascii")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 12

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))
        def keeps_its_contract(case):
            case.call_and_validate(headers=admin, checks=CHECKS)

        keeps_its_contract()
