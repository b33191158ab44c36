from . import netflow_nll  # noqa: F401
from . import safe  # noqa: F401
