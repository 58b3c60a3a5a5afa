"""Hooks for scripts/schemathesis: where a rule depends on what came before, which a schema
cannot say, the generated requests are adjusted so that they do not trip over it.

An Idempotency-Key names one request: the same key sent again with another body is refused
(422 idempotency_key_reused), as the API reference says. Schemathesis draws keys from the
header's schema and shrinks them to a few short values, so unrelated requests would share
keys; before each request, a valid key gets a random suffix instead, so that it names one request.
Invalid keys are left as drawn, so that their refusal is still checked.

A merchant's `allowed_return_hosts` (PATCH /v1/merchant) makes every later payment whose
return URL names another host a 422 `host_not_allowed`. Random hosts would turn every
payment after such a PATCH into one, so a valid list is sent empty; the rule itself is
tested in the gateway's own suite.
"""

import re
import uuid

import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,255}")
VALID_HOST = re.compile(r"[^/: ?#@\x00-\x1f\x7f]{1,253}")


@schemathesis.hook
def before_call(context, case, kwargs):
    key = (case.headers or {}).get("Idempotency-Key")
    if isinstance(key, str) and VALID_KEY.fullmatch(key):
        suffix = uuid.uuid4().hex
        case.headers["Idempotency-Key"] = key[: 255 - len(suffix)] + suffix
    body = case.body
    if case.operation.method.upper() == "PATCH" and isinstance(body, dict):
        hosts = body.get("allowed_return_hosts")
        if isinstance(hosts, list) and hosts and all(isinstance(h, str) and VALID_HOST.fullmatch(h) for h in hosts):
            body["allowed_return_hosts"] = []
