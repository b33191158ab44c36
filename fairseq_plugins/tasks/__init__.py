from . import netflow_pretrain  # noqa: F401
from . import netflow_detect  # noqa: F401
