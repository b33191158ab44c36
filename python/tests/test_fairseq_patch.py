"""The installed fairseq carries the bf16 and DDP hunks of python/patch_fairseq.py (fast checks; the
end-to-end runs are test/train-bf16.test.ts and test_distributed.py)."""

import torch
from fairseq import options


def _parse(*extra):
    parser = options.get_training_parser()
    return options.parse_args_and_arch(parser, ["/nonexistent", "--task", "language_modeling", "--arch", "transformer_lm", *extra])


def test_bf16_does_not_imply_tpu():
    args = _parse("--cpu", "--bf16")
    assert args.bf16 and not args.tpu
    args = _parse("--cpu", "--memory-efficient-bf16")
    assert args.bf16 and args.memory_efficient_bf16 and not args.tpu
    assert _parse("--tpu", "--bf16").tpu  # a TPU is still there for whoever asks for one


def test_pytorch_ddp_wraps_a_cpu_module(tmp_path):
    import torch.distributed as dist
    from fairseq.models import DistributedFairseqModel

    args = _parse("--cpu", "--ddp-backend", "pytorch_ddp")
    dist.init_process_group("gloo", init_method=f"file://{tmp_path}/store", rank=0, world_size=1)
    try:
        model = DistributedFairseqModel(args, torch.nn.Linear(2, 2), process_group=dist.group.WORLD, device=torch.device("cpu"))
        model(torch.ones(1, 2)).sum().backward()
        assert model.weight.grad is not None  # ModuleProxyWrapper reaches the wrapped Linear
    finally:
        dist.destroy_process_group()
