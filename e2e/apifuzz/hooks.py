"""Schemathesis hooks for the API fuzz run (e2e/apifuzz/run.py).

They give the tester what the OpenAPI document states but cannot express as
JSON Schema, and nothing else:

- `format: phone-number` and `format: e164`: a number must be valid in its
  country's numbering plan, which no pattern can say. Values are drawn from
  the families in phone_numbers.txt (each checked by numbers_test.go), always
  in E.164 form, so that `uniqueItems` also rules out two spellings of one
  number.
- `cursor`: a cursor is valid only if the service minted it for that listing
  (the document says so), so a generated one can only be refused. Valid
  (positive) requests therefore carry none; invalid (negative) ones keep
  theirs, and must be refused.
"""

import hashlib
import hmac
import json
import os
import re
import time

import schemathesis
from hypothesis import strategies as st
from schemathesis.core import NOT_SET

_HERE = os.path.dirname(os.path.abspath(__file__))


def _families():
    with open(os.path.join(_HERE, "phone_numbers.txt"), encoding="utf-8") as f:
        lines = [line.strip() for line in f]
    families = [line for line in lines if line and not line.startswith("#")]
    return [
        st.from_regex(re.escape(family).replace("X", "[0-9]"), fullmatch=True)
        for family in families
    ]


_numbers = st.one_of(_families())
schemathesis.openapi.format("phone-number", _numbers)
schemathesis.openapi.format("e164", _numbers)


@schemathesis.hook
def map_case(context, case):
    meta = case.meta
    if meta is not None and meta.generation.mode.is_positive and case.query:
        case.query.pop("cursor", None)
    return case


# The Zoom webhook verifies an HMAC of the raw body before it reads anything,
# so unsigned requests only ever see 401. Cases whose headers are meant to be
# valid are signed here, the way Zoom signs (shared/zoomsig), with the
# secret token the local system was started with; the body is sent exactly
# as signed. Cases with invalid headers are sent as generated, and refused.
_WEBHOOK_SECRET = os.environ.get("API_FUZZ_WEBHOOK_SECRET", "").encode()


@schemathesis.hook
def before_call(context, case, kwargs):
    if case.operation.path != "/zoom/webhook" or not _WEBHOOK_SECRET or case.meta is None:
        return
    for location, component in case.meta.components.items():
        if location.name == "HEADER" and component.mode.is_negative:
            return
    if case.body is NOT_SET or not isinstance(case.body, (dict, list, str, int, float, bool, type(None))):
        return
    body = json.dumps(case.body).encode()
    timestamp = str(int(time.time()))
    mac = hmac.new(_WEBHOOK_SECRET, b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256)
    case.headers = {
        **(case.headers or {}),
        "x-zm-request-timestamp": timestamp,
        "x-zm-signature": "v0=" + mac.hexdigest(),
    }
    kwargs["data"] = body
