"""Task `netflow_pretrain`: next-minute prediction on the windows of a binned dataset (SPEC §5).

    fairseq-train DATASET --user-dir fairseq_plugins --task netflow_pretrain [--window N] [--feature-set full|light] ...

DATASET is a folder made by `netflowgen bin` (see fairseq_plugins/dataset.py for what is read). The
splits are the dataset's `train`, `valid` and `test` windows; one example is one window, a batch is
--batch-size whole windows. There is no dictionary: the model reads bins, not tokens.
"""

# No `from __future__ import annotations` here: fairseq reads the config dataclass's field types at run time.
from dataclasses import dataclass, field
from typing import Optional

from fairseq.dataclass import FairseqDataclass
from fairseq.tasks import register_task
from omegaconf import II

from ..dataset import SPLITS, BinnedData, DatasetError, NetflowWindowDataset, resolve_window, window_spec
from .shape import FEATURE_SET_CHOICES, BinnedShapeTask, data_field


@dataclass
class NetflowPretrainConfig(FairseqDataclass):
    # fairseq (interpret_dc_type) recognises typing.Optional in a config field, not `str | None`
    data: Optional[str] = data_field("binned dataset folder (manifest.json, bins.u8, time.u8, windows.*.i32)")  # noqa: UP045
    window: int = field(
        default=0,
        metadata={
            "help": "window length in minutes; 0 = the dataset's windowLength. Shorter windows cut the stored ones"
        },
    )
    feature_set: FEATURE_SET_CHOICES = field(
        default="full", metadata={"help": "full: every feature of the dataset; light: the 6 volume features (Table 9)"}
    )
    seed: int = II("common.seed")


@register_task("netflow_pretrain", dataclass=NetflowPretrainConfig)
class NetflowPretrainTask(BinnedShapeTask):
    def __init__(self, cfg: NetflowPretrainConfig, data: BinnedData):
        super().__init__(cfg, data)
        self.window = resolve_window(cfg.window, data.window_length)
        self.set_shape(data, cfg.feature_set)
        # The group of every selected feature, for the criterion's acc_<group>.
        self.feature_groups: list[str] = [data.groups[i] for i in self.feature_columns]
        self.feature_names: list[str] = [data.features[i] for i in self.feature_columns]

    @classmethod
    def setup_task(cls, cfg: NetflowPretrainConfig, **kwargs):
        if not cfg.data:
            raise DatasetError("netflow_pretrain needs the dataset folder as its first argument (DATA)")
        return cls(cfg, BinnedData(cfg.data))

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False, **kwargs):
        if split not in SPLITS:
            raise DatasetError(
                f"unknown split {split!r}: a binned dataset has {', '.join(SPLITS)} (use --valid-subset valid or test)"
            )
        spec = window_spec(self.data, split, self.window, self.cfg.feature_set)
        if len(spec.windows) == 0:
            raise DatasetError(f"{self.data.manifest_path}: the {split} split has no windows of {self.window} minutes")
        self.datasets[split] = NetflowWindowDataset(self.data, spec, shuffle=(split == "train"), seed=self.cfg.seed)
