#!/usr/bin/env python3
"""Patch the unpacked fairseq 0.12.2 sdist so that it builds and runs on Python 3.11 with torch 2.13,
trains in bf16 on CUDA or the CPU (not only on a TPU), and runs DistributedDataParallel on the CPU
and exits cleanly after distributed training.

Usage: python patch_fairseq.py SRC_DIR      (SRC_DIR = the unpacked fairseq-0.12.2 folder)

Every change is an exact textual substitution that must match exactly once (or exactly the number of
times stated). If any expected text is missing, or appears more often than expected, the script fails
before it writes anything, so a different sdist cannot be silently mis-patched. python/install_fairseq.sh
also checks the sdist's sha256 before calling this. See python/README.md for why each hunk exists.
"""

from __future__ import annotations

import sys
from pathlib import Path

# (file, reason, [(old, new, expected count), ...])
Hunk = tuple[str, str, list[tuple[str, str, int]]]

# --- 1. dataclass defaults (fairseq issues #5012, #5191) -----------------------------------------
# Python 3.11 rejects a dataclass field whose default is an unhashable instance (every non-frozen
# dataclass is unhashable), so `import fairseq` fails with "mutable default ... use default_factory".
# A default_factory also gives every config its own sub-config objects instead of one shared instance.
_FAIRSEQ_CONFIG_FIELDS = [
    ("common", "CommonConfig"),
    ("common_eval", "CommonEvalConfig"),
    ("distributed_training", "DistributedTrainingConfig"),
    ("dataset", "DatasetConfig"),
    ("optimization", "OptimizationConfig"),
    ("checkpoint", "CheckpointConfig"),
    ("bmuf", "FairseqBMUFConfig"),
    ("generation", "GenerationConfig"),
    ("eval_lm", "EvalLMConfig"),
    ("interactive", "InteractiveConfig"),
    ("ema", "EMAConfig"),
]

HUNKS: list[Hunk] = [
    (
        "fairseq/dataclass/configs.py",
        "FairseqConfig: 11 sub-configs default to shared instances (#5012, #5191)",
        [
            (
                f"\n    {name}: {cls} = {cls}()\n",
                f"\n    {name}: {cls} = field(default_factory={cls})\n",
                1,
            )
            for name, cls in _FAIRSEQ_CONFIG_FIELDS
        ],
    ),
    (
        "fairseq/models/transformer/transformer_config.py",
        "TransformerConfig: encoder, decoder, quant_noise default to shared instances (#5012, #5191)",
        [
            (
                "\n    encoder: EncDecBaseConfig = EncDecBaseConfig()\n",
                "\n    encoder: EncDecBaseConfig = field(default_factory=EncDecBaseConfig)\n",
                1,
            ),
            (
                "\n    decoder: DecoderConfig = DecoderConfig()\n",
                "\n    decoder: DecoderConfig = field(default_factory=DecoderConfig)\n",
                1,
            ),
            (
                "\n    quant_noise: QuantNoiseConfig = field(default=QuantNoiseConfig())\n",
                "\n    quant_noise: QuantNoiseConfig = field(default_factory=QuantNoiseConfig)\n",
                1,
            ),
        ],
    ),
    # --- 2. follow-up of 1: hydra_init reads each field's `.default` ---------------------------------
    # With default_factory, Field.default is dataclasses.MISSING, and `import fairseq` (which calls
    # hydra_init) would hand that sentinel to hydra's ConfigStore. Use the factory's value instead.
    (
        "fairseq/dataclass/initialize.py",
        "hydra_init: take a field's default from its default_factory when it has one",
        [
            (
                "        v = FairseqConfig.__dataclass_fields__[k].default\n",
                "        f = FairseqConfig.__dataclass_fields__[k]\n"
                "        v = f.default_factory() if callable(f.default_factory) else f.default\n",
                1,
            ),
        ],
    ),
    # --- 3. torch >= 2.6 loads with weights_only=True by default (fairseq issue #5603) ---------------
    # fairseq's own checkpoints hold more than tensors (configs, numpy scalars, optimizer and meter
    # state), which the weights-only unpickler rejects. fairseq wrote these files itself, so load them
    # with full unpickling, as torch < 2.6 did. Other torch.load calls (external audio/quantization
    # files) are left alone; TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 covers those if ever needed.
    (
        "fairseq/checkpoint_utils.py",
        "load_checkpoint_to_cpu / load_ema_from_checkpoint: torch.load(..., weights_only=False) (#5603)",
        [
            (
                '        state = torch.load(f, map_location=torch.device("cpu"))\n',
                '        state = torch.load(f, map_location=torch.device("cpu"), weights_only=False)\n',
                1,
            ),
            (
                '                lambda s, _: torch.serialization.default_restore_location(s, "cpu")\n'
                "            ),\n"
                "        )\n",
                '                lambda s, _: torch.serialization.default_restore_location(s, "cpu")\n'
                "            ),\n"
                "            weights_only=False,\n"
                "        )\n",
                1,
            ),
        ],
    ),
    (
        "fairseq/distributed/utils.py",
        "broadcast_object: the checkpoint state sent from rank 0 to the other ranks is a full pickle (#5603)",
        [
            (
                '        obj = torch.load(buffer, map_location="cpu")\n',
                '        obj = torch.load(buffer, map_location="cpu", weights_only=False)\n',
                1,
            ),
        ],
    ),
    # --- 4. the 0.12.2 sdist lacks some C++ sources that setup.py compiles ---------------------------
    # fairseq/clib/libbase (BASE layers), fairseq/clib/libnat (Levenshtein/insertion NAT models) and
    # the top-level examples/operators (alignment training example) are not in the tarball, so the
    # build stops with "balanced_assignment.cpp ... missing". All three are imported lazily and only by
    # those models; skip exactly these three, and still fail if anything else is missing.
    (
        "setup.py",
        "skip the three extensions whose sources the sdist does not ship",
        [
            (
                '\nif "READTHEDOCS" in os.environ:\n',
                "\n# netflowgen patch: the PyPI sdist of 0.12.2 does not ship these extensions' sources.\n"
                "_missing = [e.name for e in extensions if not all(os.path.exists(s) for s in e.sources)]\n"
                '_optional = {"fairseq.libbase", "fairseq.libnat", "alignment_train_cpu_binding"}\n'
                "if set(_missing) - _optional:\n"
                '    sys.exit("missing sources for extensions: %s" % sorted(set(_missing) - _optional))\n'
                "if _missing:\n"
                '    print("skipping extensions without sources: %s" % ", ".join(_missing), file=sys.stderr)\n'
                "extensions = [e for e in extensions if e.name not in _missing]\n"
                '\nif "READTHEDOCS" in os.environ:\n',
                1,
            ),
        ],
    ),
    # --- 5. metadata: declare the dependencies this build really runs with ---------------------------
    # The sdist asks for hydra-core<1.1 and omegaconf<2.1 (broken on 3.11: hydra 1.0's JobConf has the
    # same mutable-default defect) and torchaudio (no release for torch 2.13, imported only by audio
    # code). We install with --no-deps and pin hydra-core 1.3.2 / omegaconf 2.3.0 instead
    # (python/requirements-fairseq.txt); fixing the metadata keeps `pip check` and later pip runs quiet.
    (
        "setup.py",
        "install_requires: hydra-core 1.3 / omegaconf 2.3, no torchaudio",
        [
            (
                '            "hydra-core>=1.0.7,<1.1",\n            "omegaconf<2.1",\n',
                '            "hydra-core>=1.3.2,<1.4",\n            "omegaconf>=2.3.0,<2.4",\n',
                1,
            ),
            ('            "torchaudio>=0.8.0",\n', "", 1),
        ],
    ),
    # --- 6. bf16 without a TPU ----------------------------------------------------------------------
    # parse_args_and_arch turns --bf16 (and --memory-efficient-bf16) into --tpu, so the Trainer asks
    # torch_xla for a device and fails without it: AttributeError: 'NoneType' object has no attribute
    # 'xla_device' (utils.get_tpu_device). Everything else in 0.12.2 already handles bf16 on any device:
    # the Trainer casts model and criterion with .to(torch.bfloat16) and the float inputs of each batch
    # (_fp_convert_sample); FP16Optimizer keeps fp32 master weights without loss scaling and, for bf16,
    # without flattening (the flat path is the one that calls torch.cuda.current_device());
    # MemoryEfficientFP16Optimizer steps the bf16 weights with fp32 optimiser state; checkpoints are
    # saved through utils.move_to_cpu, which writes bf16 tensors as float32. So --bf16 now means bf16 on
    # the device that --cpu / CUDA selects; a TPU needs --tpu, as it always did with --fp16 off.
    (
        "fairseq/options.py",
        "parse_args_and_arch: --bf16 no longer implies --tpu",
        [
            (
                '    args.bf16 = getattr(args, "bf16", False)\n    if args.bf16:\n        args.tpu = True\n',
                '    args.bf16 = getattr(args, "bf16", False)\n',
                1,
            ),
        ],
    ),
    (
        "fairseq/dataclass/configs.py",
        "--bf16 help: no longer 'implies --tpu'",
        [
            (
                '    bf16: bool = field(default=False, metadata={"help": "use bfloat16; implies --tpu"})\n',
                '    bf16: bool = field(default=False, metadata={"help": "use bfloat16 on the selected device '
                '(CUDA, the CPU with --cpu, a TPU with --tpu)"})\n',
                1,
            ),
        ],
    ),
    # --- 7. DistributedDataParallel on the CPU (gloo) --------------------------------------------------
    # --ddp-backend pytorch_ddp (the default) passes device_ids=[device_id] to torch's
    # DistributedDataParallel, which torch rejects for a CPU module ("device_ids and output_device
    # arguments only work with single-device/multiple-device GPU modules or CPU modules"). Pass them on
    # CUDA only, so that the default backend also runs with --cpu --distributed-backend gloo (the
    # two-process CPU test of python/tests/test_distributed.py; GPU runs are unchanged).
    (
        "fairseq/models/distributed_fairseq_model.py",
        "pytorch_ddp: device_ids/output_device only for a CUDA module",
        [
            (
                "            device_ids=[args.device_id],\n            output_device=args.device_id,\n",
                '            device_ids=[args.device_id] if device.type == "cuda" else None,\n'
                '            output_device=args.device_id if device.type == "cuda" else None,\n',
                1,
            ),
        ],
    ),
    # --- 8. tear the process groups down before the interpreter exits -------------------------------
    # distributed_main ends with a barrier and never destroys the process groups. A gloo worker thread
    # (ProcessGroupGloo::runLoop) may then drop the last reference to that barrier's work object, which
    # holds an earlier all-reduce's tensors, while the main thread is already in Py_FinalizeEx:
    # freeing a tensor that has a Python object needs the GIL, the finalizing interpreter ends the thread
    # with pthread_exit, and the forced unwind through a noexcept destructor aborts the process
    # ("terminate called without an active exception", SIGABRT, after "done training"). Seen in about
    # 1 of 16 two-process CPU runs; torch issue #190489, fix attempt #179291 abandoned. Destroying the
    # groups is not enough while fairseq still caches its global group, so drop that reference and
    # collect: the group's destructor then joins its worker threads while the interpreter is alive.
    (
        "fairseq/distributed/utils.py",
        "distributed_main: destroy the process groups and join gloo's worker threads before exit",
        [
            (
                "    main(cfg, **kwargs)\n"
                "\n"
                "    if torch.distributed.is_initialized():\n"
                "        torch.distributed.barrier(get_global_group())\n",
                "    main(cfg, **kwargs)\n"
                "\n"
                "    if torch.distributed.is_initialized():\n"
                "        torch.distributed.barrier(get_global_group())\n"
                "        torch.distributed.destroy_process_group()\n"
                '        if hasattr(get_global_group, "_global_group"):\n'
                "            del get_global_group._global_group\n"
                "        import gc\n"
                "\n"
                "        gc.collect()\n",
                1,
            ),
        ],
    ),
]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    src = Path(argv[1])
    version = (src / "fairseq" / "version.txt").read_text().strip()
    if version != "0.12.2":
        raise SystemExit(f"patch_fairseq: expected fairseq 0.12.2 sources, found {version!r} in {src}")

    # Check every substitution first, write only when all of them match.
    new_texts: dict[Path, str] = {}
    errors: list[str] = []
    for rel, reason, subs in HUNKS:
        path = src / rel
        text = new_texts.get(path) or path.read_text()
        for old, new, expected in subs:
            found = text.count(old)
            if found != expected:
                errors.append(f"{rel}: expected {expected} match(es), found {found} ({reason}):\n{old}")
                continue
            text = text.replace(old, new)
        new_texts[path] = text
    if errors:
        print("patch_fairseq: the sources do not look like fairseq 0.12.2; nothing was changed.", file=sys.stderr)
        for e in errors:
            print("  " + e.rstrip(), file=sys.stderr)
        return 1
    for path, text in new_texts.items():
        path.write_text(text)
    n = sum(len(subs) for _, _, subs in HUNKS)
    print(f"patch_fairseq: applied {n} substitutions in {len(new_texts)} files", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
