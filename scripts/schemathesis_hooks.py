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

A merchant has at most 16 webhook endpoints: the 17th is a 422, and so is a
`default_webhook_url` that would be one. Before a request that may add one, the hook
removes the oldest endpoints beyond 15 through the API, so that generated requests keep
reaching the endpoint rules. `recover` refuses a `since` in the future, which the schema
cannot say: a valid time later than now is moved a day into the past.
"""

import datetime
import json
import os
import re
import urllib.request
import uuid

import schemathesis

VALID_KEY = re.compile(r"[!-~]{1,255}")
VALID_HOST = re.compile(r"[^/: ?#@\x00-\x1f\x7f]{1,253}")


MAX_ENDPOINTS = 16


def api(method, path):
    request = urllib.request.Request(
        os.environ["GATEPOST_SCHEMA_URL"] + path,
        method=method,
        headers={"Authorization": "Bearer " + os.environ["GATEPOST_SCHEMA_KEY"]},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        body = response.read()
    return json.loads(body) if body else None


def make_room_for_an_endpoint():
    endpoints = api("GET", "/v1/webhook_endpoints")["data"]
    for endpoint in endpoints[: max(0, len(endpoints) - (MAX_ENDPOINTS - 1))]:
        api("DELETE", "/v1/webhook_endpoints/" + endpoint["id"])


def in_the_past(since):
    try:
        parsed = datetime.datetime.fromisoformat(since.replace("Z", "+00:00"))
    except ValueError:
        return since
    if parsed.tzinfo is None:
        return since
    now = datetime.datetime.now(datetime.timezone.utc)
    if parsed <= now:
        return since
    return (now - datetime.timedelta(days=1)).isoformat().replace("+00:00", "Z")


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
    path = case.operation.path
    method = case.operation.method.upper()
    if (method == "POST" and path == "/v1/webhook_endpoints") or (
        method == "PATCH" and path == "/v1/merchant" and isinstance(body, dict) and body.get("default_webhook_url")
    ):
        make_room_for_an_endpoint()
    if path.endswith("/recover") and isinstance(body, dict) and isinstance(body.get("since"), str):
        body["since"] = in_the_past(body["since"])
