"""Training on several processes with PyTorch's own engine.

`torchrun --nproc-per-node N -m ganforge fit ...` starts N copies of the command; each reads the rendezvous
from the environment torchrun sets (WORLD_SIZE, RANK, LOCAL_RANK, MASTER_ADDR, MASTER_PORT). Rank 0 fits
the data transform and sends it to the others, every rank trains on its own shard of the rows, and
DistributedDataParallel averages the gradients, so all ranks hold the same weights. Only rank 0 writes.
Nothing here does anything in an ordinary single-process run.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel

from ..errors import GanforgeError


@dataclass(frozen=True)
class Distributed:
    rank: int
    world_size: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def device(self, requested: str) -> torch.device:
        """One GPU per process (cuda:LOCAL_RANK) when GPUs are used, else the CPU."""
        if requested in ("auto", "cuda") and torch.cuda.is_available():
            torch.cuda.set_device(self.local_rank)
            return torch.device("cuda", self.local_rank)
        if requested.startswith("cuda:"):
            raise GanforgeError("under torchrun each process takes the GPU of its LOCAL_RANK: use --device cuda")
        return torch.device(requested if requested != "auto" else "cpu")

    def shard(self, n_rows: int) -> np.ndarray:
        """This rank's rows: a contiguous block, as even as the row count allows."""
        return np.array_split(np.arange(n_rows), self.world_size)[self.rank]

    def broadcast(self, value: Any) -> Any:
        """Rank 0's `value` on every rank (our own JSON-like state, between our own processes)."""
        holder = [value if self.is_main else None]
        dist.broadcast_object_list(holder, src=0)
        return holder[0]

    def sum(self, tensor: torch.Tensor) -> torch.Tensor:
        dist.all_reduce(tensor, op=dist.ReduceOp.SUM)
        return tensor

    def wrap(self, module: nn.Module) -> nn.Module:
        device_ids = [self.local_rank] if next(module.parameters()).is_cuda else None
        return DistributedDataParallel(module, device_ids=device_ids)


def current() -> Distributed | None:
    """The distributed job this process belongs to, joining its process group on first use; None alone."""
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return None
    if not dist.is_initialized():
        if "MASTER_ADDR" not in os.environ:
            raise GanforgeError("WORLD_SIZE is set but MASTER_ADDR is not: start distributed runs with torchrun")
        dist.init_process_group(backend="nccl" if torch.cuda.is_available() else "gloo")
    return Distributed(rank=dist.get_rank(), world_size=dist.get_world_size(),
                       local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def finish() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()
