"""Run by torchrun in tests: fit through the Python API, then write this rank's generator weights."""

import sys

import torch
from safetensors.torch import save_file

from ganforge import TabularSynthesizer

table, out = sys.argv[1], sys.argv[2]
model = TabularSynthesizer(epochs=3, batch_size=100, embedding_dim=16, generator_dims=(32, 32),
                           discriminator_dims=(32, 32), seed=0).fit(table)
rank = torch.distributed.get_rank()
save_file({k: v.contiguous() for k, v in model.generator_.state_dict().items()}, f"{out}/rank{rank}.safetensors")
