from . import netflow_nll  # noqa: F401
