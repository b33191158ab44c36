"""NetFlowGen's fairseq plugin: `fairseq-train DATASET --user-dir fairseq_plugins --task netflow_pretrain
--arch netflowgen_4_4_128_512 --criterion netflow_nll ...` for pre-training, `fairseq-train EARLYDETECT
--user-dir fairseq_plugins --task netflow_detect --arch netflowgen_safe --criterion safe ...` for
fine-tuning (see README.md in this folder).

fairseq's --user-dir imports this package and then its tasks/ and models/ folders, but not criterions/:
import all three here, so that `import fairseq_plugins` (python/score.py, python/bridge.py) registers
everything too. Python imports each module once, so the registrations do not clash.
"""

from . import criterions, models, tasks  # noqa: F401
