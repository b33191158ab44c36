"""Task `netflow_detect`: early DDoS detection on EarlyDetect examples (SPEC §6), for the criterion `safe`.

    fairseq-train EARLYDETECT_DIR --user-dir fairseq_plugins --task netflow_detect --criterion safe
        --arch netflowgen_safe --pretrained CKPT | netflowgen_tf | ms_lstm
        [--train-subset train|valid] [--valid-subset holdout|valid|test] [--attack-types DNS,UDP,NTP]
        [--holdout-share 0.2] [--holdout-seed S] [--feature-set full|light] ...

An example is W minutes of one node (the EarlyDetect windowLength) whose last D minutes are the detection
window; a batch is --batch-size whole examples. The targets are the label and the onset step T_i (D - 1
for non-attack examples). See fairseq_plugins/detect_data.py for what is read.

Splits. `train`, `valid` and `test` are the EarlyDetect splits; the paper's small setting trains on `valid`
(--train-subset valid) and the MoreData rows on `train`. fairseq validates (for --patience and
checkpoint_best.pt) on --valid-subset, which must not be the training split: pass `holdout` to monitor on
a seeded --holdout-share (default 20%) of the training split's selected examples, drawn as whole
attack/non-attack pairs with --holdout-seed (default --seed) and left out of training. Without `holdout`
among the validation subsets, or with --disable-validation (netflowgen finetune's refit on the whole
split), the training split is used whole. Each loaded subset logs `subset NAME: N examples of SPLIT`.
--attack-types keeps the examples of those types (the pairs of their alerts), as Table 6 fine-tunes per
type; unseen-node examples (attackType -1) are never trained on or validated on.
"""

# No `from __future__ import annotations` here: fairseq reads the config dataclass's field types at run time.
import logging
from dataclasses import dataclass, field
from typing import Optional

from fairseq.dataclass import FairseqDataclass
from fairseq.tasks import register_task
from omegaconf import II

from ..dataset import SPLITS, DatasetError
from ..detect_data import DetectDataset, EarlyDetectData, holdout_split, select
from .shape import FEATURE_SET_CHOICES, BinnedShapeTask, data_field

logger = logging.getLogger(__name__)

HOLDOUT = "holdout"


@dataclass
class NetflowDetectConfig(FairseqDataclass):
    # fairseq (interpret_dc_type) recognises typing.Optional in a config field, not `str | None`
    data: Optional[str] = data_field("EarlyDetect folder (manifest.json, <split>.examples.i32, ...)")  # noqa: UP045
    attack_types: str = field(
        default="", metadata={"help": "comma-separated attack types to keep (e.g. DNS,UDP,NTP); empty = all"}
    )
    feature_set: FEATURE_SET_CHOICES = field(
        default="full",
        metadata={"help": "full: every feature of the binned dataset; light: the 6 volume features (Table 9)"},
    )
    holdout_share: float = field(
        default=0.2, metadata={"help": "share of the training split's example pairs held out as --valid-subset holdout"}
    )
    holdout_seed: int = II("common.seed")
    seed: int = II("common.seed")
    train_subset: str = II("dataset.train_subset")
    valid_subset: str = II("dataset.valid_subset")
    disable_validation: bool = II("dataset.disable_validation")


@register_task("netflow_detect", dataclass=NetflowDetectConfig)
class NetflowDetectTask(BinnedShapeTask):
    def __init__(self, cfg: NetflowDetectConfig, data: EarlyDetectData):
        super().__init__(cfg, data)
        binned = data.binned
        self.window = data.window  # W: minutes of input per example
        self.detect_length = data.detect_length  # D: scored steps, the last D minutes
        self.set_shape(binned, cfg.feature_set)
        self.types = data.type_indices(cfg.attack_types)
        self.valid_subsets = [s for s in str(cfg.valid_subset or "").split(",") if s]
        check_subsets(str(cfg.train_subset), self.valid_subsets, bool(cfg.disable_validation))

    @classmethod
    def setup_task(cls, cfg: NetflowDetectConfig, **kwargs):
        if not cfg.data:
            raise DatasetError("netflow_detect needs the EarlyDetect folder as its first argument (DATA)")
        return cls(cfg, EarlyDetectData(cfg.data))

    def split_indices(self, split: str):
        """Indices (into the file of the split it reads) of the examples a fairseq subset holds."""
        train = str(self.cfg.train_subset)
        source = train if split == HOLDOUT else split
        chosen = select(self.data.examples(source), self.types)
        if split == HOLDOUT or (split == train and HOLDOUT in self.valid_subsets and not self.cfg.disable_validation):
            if self.cfg.holdout_share <= 0:
                raise DatasetError("--valid-subset holdout needs --holdout-share above 0")
            kept, held = holdout_split(
                self.data.examples(source), chosen, float(self.cfg.holdout_share), int(self.cfg.holdout_seed)
            )
            chosen = held if split == HOLDOUT else kept
        return source, chosen

    def load_dataset(self, split: str, epoch: int = 1, combine: bool = False, **kwargs):
        if split not in SPLITS + (HOLDOUT,):
            raise DatasetError(f"unknown subset {split!r}: netflow_detect has {', '.join(SPLITS + (HOLDOUT,))}")
        source, indices = self.split_indices(split)
        if len(indices) == 0:
            what = f"of type {self.cfg.attack_types} " if self.types is not None else ""
            raise DatasetError(f"{self.data.examples_path(source)}: no examples {what}for the {split} subset")
        shuffle = split == str(self.cfg.train_subset)
        # One line per subset: netflowgen finetune reads the examples trained on and held out from train.log.
        logger.info(f"subset {split}: {len(indices)} examples of {source}")
        self.datasets[split] = DetectDataset(
            self.data, source, indices, self.feature_columns, shuffle=shuffle, seed=int(self.cfg.seed)
        )


def check_subsets(train: str, valid: list, disable_validation: bool) -> None:
    if train not in SPLITS:
        raise DatasetError(f"--train-subset {train!r}: netflow_detect trains on one of {', '.join(SPLITS)}")
    if disable_validation:
        return
    for s in valid:
        if s not in SPLITS + (HOLDOUT,):
            raise DatasetError(f"--valid-subset {s!r}: choose from {', '.join(SPLITS + (HOLDOUT,))}")
        if s == train:
            raise DatasetError(
                f"--valid-subset {s} is the training split: validate on --valid-subset holdout (a held-out share of "
                f"the training examples, --holdout-share) or on another split"
            )
