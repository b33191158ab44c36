# imported for their registrations with fairseq (register_model, register_model_architecture)
from . import detect, netflowgen  # noqa: F401
