"""The installed fairseq carries the bf16 hunk of python/patch_fairseq.py (a fast check; the end-to-end
runs are test/train-bf16.test.ts and, for the DDP hunks, test_distributed.py).

No DistributedDataParallel is built in this process on purpose: a gloo group freed later by the garbage
collector, with the GIL held, joins worker threads that may need the GIL, and the whole pytest run hangs
(seen with a one-process group here; python/README.md). test_distributed.py runs DDP in subprocesses."""

from fairseq import options


def _parse(*extra):
    parser = options.get_training_parser()
    return options.parse_args_and_arch(
        parser, ["/nonexistent", "--task", "language_modeling", "--arch", "transformer_lm", *extra]
    )


def test_bf16_does_not_imply_tpu():
    args = _parse("--cpu", "--bf16")
    assert args.bf16 and not args.tpu
    args = _parse("--cpu", "--memory-efficient-bf16")
    assert args.bf16 and args.memory_efficient_bf16 and not args.tpu
    assert _parse("--tpu", "--bf16").tpu  # a TPU is still there for whoever asks for one
