#!/usr/bin/env python3
"""Smoke check of the patched fairseq 0.12.2 in .venv (see python/README.md).

Run: .venv/bin/python python/check_fairseq.py     exit status 0 = every check passed.

Checks: fairseq imports (with its compiled Cython/C++ extensions) and is 0.12.2; hydra/omegaconf turn
parsed command-line arguments into a config; two FairseqConfig / TransformerConfig instances do not
share sub-config objects (the pitfall of the `fairseq-fixed` package); a tiny transformer_lm checkpoint
saved with fairseq.checkpoint_utils loads back on torch >= 2.6 (weights_only default, fairseq #5603),
also through load_model_ensemble_and_task.
"""

import dataclasses
import logging
import os
import sys
import tempfile
import warnings

# The check must prove the weights_only patch, not an environment override (torch and fairseq are
# imported below, inside the checks, after this).
os.environ.pop("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", None)
os.environ.setdefault("OMP_NUM_THREADS", "1")

logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
# hydra 1.3 warns about fairseq's use of its 1.0 API (initialize() without version_base, compose(strict=),
# schema matching); expected with the hydra-core pin, see python/README.md.
warnings.filterwarnings("ignore", category=UserWarning, module=r"hydra\.")
warnings.filterwarnings("ignore", category=UserWarning, message=r"(?s).*(hydra\.cc|Hydra)")


def ok(msg: str) -> None:
    print(f"ok: {msg}", flush=True)


def check(cond: bool, msg: str) -> None:
    if not cond:
        raise AssertionError(msg)


def main() -> None:
    import fairseq
    import numpy as np
    import torch

    print(f"fairseq {fairseq.__version__} (torch {torch.__version__}, numpy {np.__version__})", flush=True)
    check(fairseq.__version__ == "0.12.2", f"expected fairseq 0.12.2, got {fairseq.__version__}")

    # Compiled extensions (built against this venv's numpy and torch).
    from fairseq import libbleu  # noqa: F401
    from fairseq.data import data_utils, data_utils_fast, token_block_utils_fast  # noqa: F401

    batches = data_utils.batch_by_size(np.arange(6), lambda i: 4, max_tokens=8)
    check([list(b) for b in batches] == [[0, 1], [2, 3], [4, 5]], f"batch_by_size gave {batches}")
    ok("compiled extensions libbleu, data_utils_fast, token_block_utils_fast")

    # Dataclass defaults: every config gets its own sub-configs.
    from fairseq.dataclass.configs import FairseqConfig
    from fairseq.models.transformer import TransformerConfig

    for cls, expected in ((FairseqConfig, 11), (TransformerConfig, 3)):
        a, b = cls(), cls()
        subs = [f.name for f in dataclasses.fields(cls) if dataclasses.is_dataclass(getattr(a, f.name))]
        check(len(subs) == expected, f"{cls.__name__}: expected {expected} sub-configs, found {subs}")
        shared = [n for n in subs if getattr(a, n) is getattr(b, n)]
        check(not shared, f"{cls.__name__}: instances share sub-config objects {shared}")
    a = FairseqConfig()
    a.common.seed = 4242
    check(FairseqConfig().common.seed == 1, "setting a field on one FairseqConfig changed later ones")
    t = TransformerConfig()
    t.decoder.layers = 17
    check(TransformerConfig().decoder.layers == 6, "setting a field on one TransformerConfig changed later ones")
    ok("FairseqConfig (11) and TransformerConfig (3) sub-configs are per instance")

    from fairseq import checkpoint_utils, options, tasks
    from fairseq.dataclass.utils import convert_namespace_to_omegaconf
    from omegaconf import OmegaConf

    with tempfile.TemporaryDirectory(prefix="check-fairseq-") as tmp:
        with open(os.path.join(tmp, "dict.txt"), "w") as f:
            f.write("".join(f"{w} 1\n" for w in "abcdefgh"))
        parser = options.get_training_parser()
        args = options.parse_args_and_arch(
            parser,
            input_args=[
                tmp,
                "--task",
                "language_modeling",
                "--arch",
                "transformer_lm",
                "--decoder-layers",
                "1",
                "--decoder-embed-dim",
                "16",
                "--decoder-ffn-embed-dim",
                "32",
                "--decoder-attention-heads",
                "2",
                "--tokens-per-sample",
                "8",
                "--cpu",
                "--optimizer",
                "adam",
                "--lr",
                "0.001",
                "--max-tokens",
                "64",
                "--save-dir",
                tmp,
            ],
        )
        cfg = convert_namespace_to_omegaconf(args)
        check(cfg.model.decoder_layers == 1 and cfg.task._name == "language_modeling", "config not composed")
        check(cfg.common.cpu is True and cfg.optimization.lr == [0.001], "config overrides lost")
        ok("command-line arguments -> omegaconf config (hydra-core 1.3 / omegaconf 2.3)")

        task = tasks.setup_task(cfg.task)
        model = task.build_model(cfg.model)
        n_params = sum(p.numel() for p in model.parameters())
        # The state as fairseq's Trainer.state_dict() writes it, with numpy scalars in the
        # optimizer history and extra state as a training run produces them.
        state = {
            "args": None,
            "cfg": OmegaConf.to_container(cfg, resolve=True, enum_to_str=True),
            "model": model.state_dict(),
            "criterion": None,
            "optimizer_history": [
                {
                    "criterion_name": "CrossEntropyCriterion",
                    "optimizer_name": "FairseqAdam",
                    "lr_scheduler_state": {"best": np.float64(2.5)},
                    "num_updates": 3,
                }
            ],
            "task_state": {},
            "extra_state": {
                "metrics": {},
                "previous_training_time": 1.25,
                "train_iterator": {"epoch": 1, "iterations_in_epoch": 3, "shuffle": True},
                "val_loss": np.float64(2.5),
            },
        }
        path = os.path.join(tmp, "checkpoint_last.pt")
        checkpoint_utils.torch_persistent_save(state, path)

        try:
            torch.load(path)
            note = "plain torch.load also accepted it"
        except Exception:  # the weights-only unpickler rejects the numpy scalars
            note = "plain torch.load rejects it, as expected on torch >= 2.6"

        loaded = checkpoint_utils.load_checkpoint_to_cpu(path)
        check(loaded["cfg"].model.decoder_layers == 1, "config did not survive the checkpoint")
        check(loaded["extra_state"]["val_loss"] == 2.5, "extra_state did not survive the checkpoint")
        # Compare parameters (buffers include an uninitialized scratch tensor of the positions).
        params = dict(model.named_parameters())
        check(
            all(torch.equal(v, loaded["model"][k]) for k, v in params.items()),
            "model weights differ after loading",
        )
        models, cfg2, _task2 = checkpoint_utils.load_model_ensemble_and_task([path])
        check(
            all(torch.equal(v, dict(models[0].named_parameters())[k]) for k, v in params.items()),
            "load_model_ensemble_and_task gave different weights",
        )
        ok(f"checkpoint of a {n_params}-parameter transformer_lm saved and loaded with checkpoint_utils ({note})")

    print("fairseq check passed", flush=True)


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001
        import traceback

        traceback.print_exc()
        print(f"fairseq check FAILED: {type(e).__name__}: {e}", file=sys.stderr, flush=True)
        sys.exit(1)
