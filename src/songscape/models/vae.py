"""An MLP variational autoencoder with β as a parameter (β = 1: VAE, β > 1: β-VAE)."""

from __future__ import annotations

import torch
from torch import nn

from songscape.models.nets import mlp
from songscape.models.neural import NeuralRepresentation


class _VAENet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])

    def posterior(self, batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mean, log_variance = self.encoder(batch).chunk(2, dim=1)
        return mean, log_variance.clamp(-12.0, 8.0)


class VAE(NeuralRepresentation):
    """Gaussian VAE: loss = squared error (sum over features) + β·w·KL, where the warm-up
    weight w ramps from 0 to 1 over ``warmup_epochs``. transform returns the posterior mean."""

    kind = "vae"

    def __init__(self, beta: float = 1.0, warmup_epochs: int = 20, **kwargs) -> None:
        super().__init__(**kwargs)
        self.beta = beta
        self.warmup_epochs = warmup_epochs

    def _build_module(self, n_features: int) -> nn.Module:
        return _VAENet(n_features, self.hidden, self.latent_dim)

    def _loss(self, module: nn.Module, batch: torch.Tensor, kl_weight: float) -> dict[str, torch.Tensor]:
        mean, log_variance = module.posterior(batch)
        sample = mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)
        reconstruction = ((module.decoder(sample) - batch) ** 2).sum(dim=1).mean()
        kl = 0.5 * (mean**2 + log_variance.exp() - 1.0 - log_variance).sum(dim=1).mean()
        return {"loss": reconstruction + self.beta * kl_weight * kl,
                "reconstruction": reconstruction, "kl": kl}

    def _encode(self, module: nn.Module, batch: torch.Tensor) -> torch.Tensor:
        return module.posterior(batch)[0]
