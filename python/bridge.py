"""Short in-process calls for the TypeScript side (pythonia): count parameters, check a training
command line against fairseq's own parser and dataclasses, one forward pass.

Every function takes and returns plain JSON values (str, int, float, bool, list, dict) and returns
within seconds on a CPU. Pass data by file path.

    count_parameters(arch, overrides, n_node_ids, n_customers, n_features, n_bins, window)
        -> {total, by_part: {input, node_emb, customer_emb, positions, layers, output}}
    check_train_args(argv, cwd=None) -> {ok, errors: [...]}
    forward_smoke(dataset_dir, arch, overrides) -> {loss, shape, parameters}

`overrides` maps model options to values, with or without dashes: {"decoder-layers": 6, "dropout": 0.3}
(forward_smoke also takes the task's "window" and "feature-set").
"""

import contextlib
import io
import math
import os
import sys
import warnings
from argparse import Namespace

os.environ.setdefault("OMP_NUM_THREADS", "1")
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLUGIN = os.path.join(ROOT, "fairseq_plugins")

TASK_OPTIONS = ("window", "feature_set")


def _load_plugin() -> None:
    from fairseq import utils

    utils.import_user_module(Namespace(user_dir=PLUGIN))


def _options(overrides, allowed):
    out = {}
    for key, value in dict(overrides or {}).items():
        name = str(key).lstrip("-").replace("-", "_")
        if name not in allowed:
            raise ValueError(
                f"unknown option {key!r}: known options are {', '.join(o.replace('_', '-') for o in allowed)}"
            )
        out[name] = value
    return out


def _our_archs():
    _load_plugin()
    from fairseq.models import ARCH_MODEL_REGISTRY

    return sorted(a for a, m in ARCH_MODEL_REGISTRY.items() if m.__name__ == "NetflowGenModel")


def _arch_args(arch: str, overrides) -> Namespace:
    """The model's argparse namespace, as fairseq-train builds it: overrides first, then the architecture's defaults."""
    _load_plugin()
    from fairseq.models import ARCH_CONFIG_REGISTRY

    from fairseq_plugins.models.netflowgen import MODEL_ARGS

    if arch not in _our_archs():
        raise ValueError(f"unknown architecture {arch!r}: known are {', '.join(_our_archs())}")
    args = Namespace(**_options(overrides, MODEL_ARGS))
    ARCH_CONFIG_REGISTRY[arch](args)
    return args


def _count(module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def count_parameters(
    arch: str, overrides, n_node_ids: int, n_customers: int, n_features: int, n_bins: int, window: int
) -> dict:
    """Parameters of the model for a dataset shape, in total and by part ("# of Params." of Table 10)."""
    args = _arch_args(arch, overrides)  # loads the plugin
    from fairseq_plugins.models.netflowgen import build_decoder

    dec = build_decoder(args, int(n_features), int(n_bins), int(n_node_ids), int(n_customers), int(window))
    by_part = {
        "input": int(dec.input_weight.numel() + dec.input_bias.numel()),
        "node_emb": _count(dec.node_embed),
        "customer_emb": _count(dec.customer_embed),
        "positions": _count(dec.embed_positions),
        "layers": _count(dec.layers) + _count(dec.layer_norm),  # the decoder stack and its final LayerNorm
        "output": _count(dec.output_projection),
    }
    total = _count(dec)
    assert total == sum(by_part.values()), "a parameter is missing from by_part"
    return {"total": total, "by_part": by_part}


def check_train_args(argv, cwd=None) -> dict:
    """Parse a fairseq-train command line (argv without or with the program) with fairseq's own parser,
    turn it into fairseq's config dataclasses, and build the task, model, criterion and optimizer it
    describes, without training. Relative paths resolve against `cwd` (default: this process's)."""
    argv = [str(a) for a in argv]
    if argv and os.path.basename(argv[0]).startswith("fairseq-train"):
        argv = argv[1:]
    errors = []
    old_cwd, old_argv = os.getcwd(), sys.argv
    stderr = io.StringIO()
    try:
        if cwd:
            os.chdir(cwd)
        sys.argv = ["fairseq-train", *argv]  # fairseq's get_parser reads --user-dir from sys.argv
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
            # hydra 1.3 warns about fairseq's use of its 1.0 API (python/README.md): expected, not the caller's concern
            warnings.filterwarnings("ignore", category=UserWarning)
            from fairseq import optim, options, tasks
            from fairseq.dataclass.utils import convert_namespace_to_omegaconf

            parser = options.get_training_parser()
            args = options.parse_args_and_arch(parser, input_args=argv)
            cfg = convert_namespace_to_omegaconf(args)
            if cfg.dataset.max_tokens is None and cfg.dataset.batch_size is None:
                raise ValueError("Must specify batch size either with --max-tokens or --batch-size")
            task = tasks.setup_task(cfg.task)
            model = task.build_model(cfg.model)
            task.build_criterion(cfg.criterion)
            optimizer = optim.build_optimizer(cfg.optimizer, list(model.parameters()))
            optim.lr_scheduler.build_lr_scheduler(cfg.lr_scheduler, optimizer)
    except SystemExit as e:
        lines = [ln for ln in stderr.getvalue().splitlines() if ln.strip() and "error:" in ln]
        message = (
            lines[-1].split("error:", 1)[1].strip() if lines else f"fairseq-train's parser exited with status {e.code}"
        )
        if message.startswith("argument --arch"):  # fairseq lists ~200 architectures: keep ours
            message = message.split(" (choose from")[0] + f" (netflowgen architectures: {', '.join(_our_archs())})"
        errors.append(message)
    except Exception as e:  # noqa: BLE001 - every failure becomes a message for the caller
        errors.append(f"{type(e).__name__}: {e}")
    finally:
        sys.argv = old_argv
        os.chdir(old_cwd)
    return {"ok": not errors, "errors": errors}


def forward_smoke(dataset_dir: str, arch: str, overrides=None) -> dict:
    """Build the model for a dataset and run one batch (up to 2 windows of the valid split, else train)
    through it and the criterion: {loss (mean NLL, nats), shape of the logits [B, T, F, K], parameters}."""
    import torch

    _load_plugin()
    from fairseq_plugins.criterions.netflow_nll import nll_and_correct
    from fairseq_plugins.models.netflowgen import NetflowGenModel
    from fairseq_plugins.tasks.netflow_pretrain import NetflowPretrainConfig, NetflowPretrainTask

    overrides = dict(overrides or {})
    task_opts = _options(
        {k: v for k, v in overrides.items() if k.lstrip("-").replace("-", "_") in TASK_OPTIONS}, TASK_OPTIONS
    )
    model_opts = {k: v for k, v in overrides.items() if k.lstrip("-").replace("-", "_") not in TASK_OPTIONS}
    task = NetflowPretrainTask.setup_task(NetflowPretrainConfig(data=dataset_dir, **task_opts))
    args = _arch_args(arch, model_opts)
    model = NetflowGenModel.build_model(args, task)
    model.eval()
    split = "valid" if len(task.data.windows("valid")) else "train"
    task.load_dataset(split)
    dataset = task.datasets[split]
    sample = dataset.collater(list(range(min(2, len(dataset)))))
    with torch.no_grad():
        logits, _ = model(**sample["net_input"])
        nll, _ = nll_and_correct(logits, sample["target"])
    loss = float(nll.mean())
    if not math.isfinite(loss):
        raise ValueError(f"forward_smoke: the loss is {loss}")
    return {"loss": loss, "shape": list(logits.shape), "parameters": _count(model), "split": split}
