"""What the two netflowgen tasks share: the feature-set choice, the DATA field of their configs, and the shape of
the binned dataset the model is built for (selected feature columns, bins, node and customer ids, window).

There is no dictionary: the models read bins, not tokens.
"""

# No `from __future__ import annotations` here: fairseq reads the config dataclass's field types at run time.
from dataclasses import field

from fairseq.dataclass import ChoiceEnum
from fairseq.tasks import FairseqTask

from ..dataset import FEATURE_SETS, BinnedData, select_features

FEATURE_SET_CHOICES = ChoiceEnum(list(FEATURE_SETS))


def data_field(what: str):
    """The config's `data` (typed Optional[str] there): the folder fairseq-train gets as its first argument."""
    return field(default=None, metadata={"help": what})


class BinnedShapeTask(FairseqTask):
    """A task over a binned dataset: sets feature_columns (of `feature_set`), n_features, n_bins, n_node_ids,
    n_customers; `window` (minutes of input per example) is set by the subclass."""

    window: int

    def __init__(self, cfg, data):
        super().__init__(cfg)
        self.data = data

    def set_shape(self, binned: BinnedData, feature_set: str) -> None:
        self.feature_columns = select_features(binned.features, feature_set, binned.manifest_path)
        self.n_features = len(self.feature_columns)
        self.n_bins = binned.n_bins
        self.n_node_ids = binned.n_node_ids
        self.n_customers = binned.n_customers

    def max_positions(self):
        return self.window

    @property
    def source_dictionary(self):
        return None

    @property
    def target_dictionary(self):
        return None
