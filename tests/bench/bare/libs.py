"""The floor plus the libraries the brief prescribes: a functions-framework function that
imports requests and marshmallow, as any function validating with marshmallow and calling
out with requests must, and answers 200."""

import marshmallow  # noqa: F401
import requests  # noqa: F401


def hello(request):
    return "ok"
