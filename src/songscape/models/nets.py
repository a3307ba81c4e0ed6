"""Network building blocks shared by the neural representations."""

from __future__ import annotations

from torch import nn


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers through ``sizes`` with LayerNorm + GELU between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (size_in, size_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(size_in, size_out))
        if index < len(sizes) - 2:
            layers.extend([nn.LayerNorm(size_out), nn.GELU()])
    return nn.Sequential(*layers)
