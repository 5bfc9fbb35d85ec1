"""What every isphooks function uses: auth, config, the panel client, errors, logs, HTTP."""

from shared.lazyre import import_marshmallow

# Before any module of the package imports marshmallow: see shared/lazyre.py (~45 ms of
# every cold start).
import_marshmallow()
