from . import netflowgen  # noqa: F401
