"""A convolutional VAE on log-mel patches: 2-D convolutions down to a dense Gaussian code and
transposed convolutions back up."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from songscape.models.base import Standardizer
from songscape.models.nets import conv_decoder, conv_encoder, mlp, split_posterior
from songscape.models.training import Batch
from songscape.models.vae import VAE
from songscape.rows import LazyRows, chunks


class _ConvVAENet(nn.Module):
    """Pads a (1, height, width) patch to a multiple of 2^layers, convolves it down, maps the
    flattened maps to the posterior; the decoder mirrors it and crops back to the input size."""

    def __init__(self, height: int, width: int, channels: tuple[int, ...],
                 hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        factor = 2 ** len(channels)
        self.height, self.width = height, width
        self.padded = (-(-height // factor) * factor, -(-width // factor) * factor)
        self.trunk_shape = (channels[-1], self.padded[0] // factor, self.padded[1] // factor)
        flat = int(np.prod(self.trunk_shape))
        self.encoder = conv_encoder(channels)
        self.encoder_head = mlp([flat, *hidden, 2 * latent_dim])
        self.decoder_head = mlp([latent_dim, *reversed(hidden), flat])
        self.decoder = conv_decoder(channels)

    def posterior(self, patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        padding = (0, self.padded[1] - self.width, 0, self.padded[0] - self.height)
        maps = self.encoder(functional.pad(patches.unsqueeze(1), padding))
        return split_posterior(self.encoder_head(maps.flatten(1)))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        maps = self.decoder_head(code).view(len(code), *self.trunk_shape)
        return self.decoder(maps)[:, 0, :self.height, :self.width]


class ConvVAE(VAE):
    """Gaussian VAE on log-mel patches X of shape (n, n_mels, frames), each mel band
    standardized over tracks and frames. ``channels`` are the conv layers' widths (each halves
    the patch), ``hidden`` the dense layers between the conv maps and the code; fewer epochs
    and less patience by default than the MLP models, as an epoch costs ~10× more. transform
    returns the posterior mean; `reconstruct` returns patches in dB, shaped like X."""

    kind = "conv-vae"
    takes_segments = False  # one patch per track

    def __init__(self, channels: tuple[int, ...] = (8, 16, 32, 32), hidden: tuple[int, ...] = (256,),
                 epochs: int = 120, patience: int = 15, batch_size: int = 64, learning_rate: float = 1e-3,
                 **kwargs: Any) -> None:
        super().__init__(hidden=hidden, epochs=epochs, patience=patience, batch_size=batch_size,
                         learning_rate=learning_rate, **kwargs)
        self.channels = tuple(channels)

    def _tensors(self, inputs: dict[str, Any], fitting: bool) -> Batch:
        """Patches standardized per mel band, batch by batch as training reads them (the
        patches may be a memmap far larger than memory)."""
        patches = inputs["X"] if hasattr(inputs["X"], "ndim") else np.asarray(inputs["X"])
        if patches.ndim != 3:
            raise ValueError(f"ConvVAE expects patches of shape (n, n_mels, frames), got {patches.shape}")
        if fitting:
            bands = (block.transpose(0, 2, 1).reshape(-1, patches.shape[1]).astype(np.float64)
                     for block in chunks(patches))
            self.scalers_["X"] = Standardizer().fit_blocks(bands)
            self.shape_.update(height=patches.shape[1], width=patches.shape[2])
        scaler = self.scalers_["X"]
        return {"X": LazyRows(patches, lambda rows: (rows - scaler.mean[:, None]) / scaler.scale[:, None])}

    def _input_units(self, decoded: np.ndarray) -> np.ndarray:
        scaler = self.scalers_["X"]
        return decoded * scaler.scale[:, None] + scaler.mean[:, None]

    def _build_module(self) -> nn.Module:
        return _ConvVAENet(self.shape_["height"], self.shape_["width"], self.channels,
                           self.hidden, self.latent_dim)
