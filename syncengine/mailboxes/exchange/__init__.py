from ..registry import register
from .kind import KIND

register(KIND)
