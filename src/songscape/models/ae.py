"""A plain MLP autoencoder: the non-variational baseline."""

from __future__ import annotations

import torch
from torch import nn

from songscape.models.nets import mlp, per_segment, squared_error
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Batch, Step


class _AutoencoderNet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])


class Autoencoder(NeuralRepresentation):
    """MLP autoencoder on standardized features, trained on squared error; with segments, on
    every segment, and a track's code is the mean of its segments' codes."""

    kind = "ae"

    def _build_module(self) -> nn.Module:
        return _AutoencoderNet(self.shape_["X_features"], self.hidden, self.latent_dim)

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        segments = self._rows(batch["X"])
        reconstruction = squared_error(module.decoder(module.encoder(segments)), segments).mean()
        return {"loss": reconstruction, "reconstruction": reconstruction}

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return per_segment(module.encoder(self._rows(batch["X"])), len(batch["X"])).mean(dim=1)
