# imported for their registrations with fairseq (register_task)
from . import netflow_detect, netflow_pretrain  # noqa: F401
