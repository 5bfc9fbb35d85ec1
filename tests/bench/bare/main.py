"""The floor: a functions-framework function that does nothing but answer 200."""


def hello(request):
    return "ok"
