# isphooks serve in a container: every action at POST /<action> on $PORT (8080), for a TLS
# reverse proxy in front of it. The configuration is a mounted file (ISPHOOKS_SECRETS).
#
#   docker build -t isphooks:1.3.0 .
#   docker run -d --name isphooks -p 127.0.0.1:8080:8080 --stop-timeout 130 \
#     -v /etc/isphooks/isphooks.json:/etc/isphooks/isphooks.json:ro isphooks:1.3.0
#
# The process runs as uid 10001: the mounted file must be readable by it, e.g.
# `chown root:10001 isphooks.json && chmod 0640 isphooks.json` on the host.
#
# tests/e2e/test_packaging.py reads this file: it runs the build stage's pip commands in a
# fresh venv, and the command against the panel simulator.

# The same base in both stages: the venv's python is a link to the base's.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_ROOT_USER_ACTION=ignore
RUN python -m venv /opt/isphooks
WORKDIR /src
# The runtime dependencies first (a layer kept while only the code changes): exactly the
# reviewed versions of the hashed lock, and nothing the lock does not name.
COPY infra/requirements.lock infra/requirements.lock
RUN /opt/isphooks/bin/pip install --require-hashes --no-deps -r infra/requirements.lock
# Then isphooks itself (pyproject.toml names README.md as its readme).
COPY pyproject.toml README.md ./
COPY shared shared
COPY functions functions
RUN /opt/isphooks/bin/pip install --no-deps . && /opt/isphooks/bin/pip check

FROM ${PYTHON_IMAGE}
# A numeric USER: Kubernetes' runAsNonRoot can check it without the image's passwd file.
RUN groupadd --system --gid 10001 isphooks \
 && useradd --system --uid 10001 --gid isphooks --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin isphooks
COPY --from=build /opt/isphooks /opt/isphooks
# ISPHOOKS_SECRETS says where the config is, it holds none of it
# hadolint ignore=DL3064
ENV PATH=/opt/isphooks/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PORT=8080 \
    ISPHOOKS_SECRETS=file:/etc/isphooks/isphooks.json
USER 10001:10001
EXPOSE 8080
# Only what the image has: its python, no curl.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request,os; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('PORT','8080'), timeout=3)"]
# SIGTERM (docker stop) lets the actions under way finish: give it --stop-timeout 130.
STOPSIGNAL SIGTERM
CMD ["isphooks", "serve", "--host", "0.0.0.0"]
