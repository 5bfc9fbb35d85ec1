"""The floor under any function that does what the brief prescribes: the bare function plus
requests and marshmallow imported (marshmallow the way isphooks imports it, its e-mail
patterns compiled on first use: shared/lazyre.py) and, in the first request, one HTTPS read
from the panel, as every action's first request makes one. Nothing else of isphooks: no
signature, no config document, no schema, no ownership check. The bench passes the panel's
address, login and CA in FLOOR_URL, FLOOR_AUTH and FLOOR_CA."""

import os

import requests

import shared  # noqa: F401  (its __init__ imports marshmallow, as in every isphooks function)

_session = requests.Session()


def hello(request):
    with _session.post(
        os.environ["FLOOR_URL"],
        verify=os.environ["FLOOR_CA"],
        timeout=5,
        data={
            "func": "user.edit",
            "elid": "benchs",
            "out": "json",
            "authinfo": os.environ["FLOOR_AUTH"],
        },
    ) as resp:
        if resp.status_code != 200 or "doc" not in resp.json():
            raise RuntimeError(f"the panel read failed: HTTP {resp.status_code}")
    return "ok"
