"""A plain MLP autoencoder: the non-variational baseline."""

from __future__ import annotations

import torch
from torch import nn

from songscape.models.nets import mlp
from songscape.models.neural import NeuralRepresentation


class _AutoencoderNet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])


class Autoencoder(NeuralRepresentation):
    """MLP autoencoder on standardized features, trained on mean squared error."""

    kind = "ae"

    def _build_module(self, n_features: int) -> nn.Module:
        return _AutoencoderNet(n_features, self.hidden, self.latent_dim)

    def _loss(self, module: nn.Module, batch: torch.Tensor, kl_weight: float) -> dict[str, torch.Tensor]:
        reconstruction = ((module.decoder(module.encoder(batch)) - batch) ** 2).sum(dim=1).mean()
        return {"loss": reconstruction, "reconstruction": reconstruction}

    def _encode(self, module: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return module.encoder(batch)
