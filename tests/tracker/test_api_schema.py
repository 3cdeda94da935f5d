"""Property-based tests of the read API, driven by its own OpenAPI document (Schemathesis):
every operation, with queries generated from the document, answers without a server error
and with a response the document describes (status, headers, content type and body)."""

from __future__ import annotations

import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode

from tests.tracker.api_support import bearer, make_token

EXAMPLES = 8  # per operation: enough to try each query parameter, bounded for the suite


def test_every_operation_answers_as_the_document_says(demo_app: Flask) -> None:
    demo_app.config["API_RATE_LIMIT"] = 100_000  # the limit has its own tests
    headers = bearer(make_token(demo_app))
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", demo_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 12  # six of the API, six of the feed
    called: list[str] = []
    for operation in operations:

        # valid queries, and queries the document rules out (a page of 0, an unknown
        # state): those must be refused in the documented shape, never with a 5xx
        @given(case=operation.as_strategy(GenerationMode.POSITIVE)
               | operation.as_strategy(GenerationMode.NEGATIVE))
        @settings(max_examples=EXAMPLES, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate],
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
        def answers(case: schemathesis.Case) -> None:
            # the token is passed as explicit auth: Schemathesis also sends the request
            # without it and with a made-up one, and expects those refused
            response = case.call_and_validate(headers=headers)
            assert response.status_code < 500, (case.path, response.status_code)
            called.append(case.path)

        answers()
    assert {path for path in called} == {op.path for op in operations}
