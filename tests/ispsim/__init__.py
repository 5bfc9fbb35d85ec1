"""Stateful ISPmanager 6 panel simulator served over real HTTPS, for tests."""

from .server import Simulator
from .state import LIMITS

__all__ = ["LIMITS", "Simulator"]
