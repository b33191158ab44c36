from . import netflowgen  # noqa: F401
from . import detect  # noqa: F401
