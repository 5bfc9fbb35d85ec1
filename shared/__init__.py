"""What every isphooks function uses: auth, config, the panel client, errors, logs, HTTP."""

# isphooks' one version: the wheel's (pyproject.toml reads it), `isphooks --version`, the
# WHMCS modules' MetaData and their archive's name (integrations/whmcs/build.py reads it).
# A plain string literal: both readers parse this file without importing the package.
__version__ = "1.3.0"

from shared.lazyre import import_marshmallow

# Before any module of the package imports marshmallow: see shared/lazyre.py (~45 ms of
# every cold start).
import_marshmallow()
