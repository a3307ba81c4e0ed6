"""A plain MLP autoencoder: the non-variational baseline."""

from __future__ import annotations

import torch
from torch import nn

from songscape.models.nets import mlp, squared_error
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Batch, Step


class _AutoencoderNet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])


class Autoencoder(NeuralRepresentation):
    """MLP autoencoder on standardized features, trained on squared error."""

    kind = "ae"

    def _build_module(self) -> nn.Module:
        return _AutoencoderNet(self.shape_["X_features"], self.hidden, self.latent_dim)

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        reconstruction = squared_error(module.decoder(module.encoder(batch["X"])), batch["X"]).mean()
        return {"loss": reconstruction, "reconstruction": reconstruction}

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return module.encoder(batch["X"])
