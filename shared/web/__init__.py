"""The HTTP side: the handler, bodies and schemas, OpenAPI, serve, callbacks."""
