"""Stateful ISPmanager 6 panel simulator served over real HTTPS, for tests."""

from .server import Simulator
from .state import LIMITS
from .wire import DIALECTS, VARIANTS, Dialect

__all__ = ["DIALECTS", "LIMITS", "VARIANTS", "Dialect", "Simulator"]
