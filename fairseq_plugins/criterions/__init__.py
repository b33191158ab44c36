# imported for their registrations with fairseq (register_criterion)
from . import netflow_nll, safe  # noqa: F401
