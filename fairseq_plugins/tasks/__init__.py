from . import netflow_pretrain  # noqa: F401
