"""An MLP variational autoencoder with β as a parameter (β = 1: VAE, β > 1: β-VAE) and the
capacity schedule of Burgess et al. (2018) as an option; the base of the other Gaussian VAEs."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from songscape.models.nets import (
    kl_to_standard_normal,
    mlp,
    per_segment,
    pooled_posterior,
    sample_posterior,
    split_posterior,
    squared_error,
)
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Batch, Step, TrainingSettings, iterate_batches


class _VAENet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])

    def posterior(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_posterior(self.encoder(inputs))

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        return self.decoder(code)


class BetaVAEObjective(NeuralRepresentation):
    """The β / warm-up / capacity part of every Gaussian VAE's loss.

    Loss = reconstruction + β·w·KL, where the warm-up weight w ramps from 0 to 1 over
    ``warmup_epochs``. With ``capacity_max`` (nats) set, the KL term becomes β·|KL − C| with C
    growing linearly from 0 to ``capacity_max`` over ``capacity_epochs`` (Burgess et al.,
    "Understanding disentangling in β-VAE"); β then plays the role of γ.
    """

    def __init__(self, beta: float = 1.0, warmup_epochs: int = 20,
                 capacity_max: float | None = None, capacity_epochs: int = 100, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.beta = beta
        self.warmup_epochs = warmup_epochs
        self.capacity_max = capacity_max
        self.capacity_epochs = capacity_epochs

    def training_settings(self, **changes: Any) -> TrainingSettings:
        schedule = self.capacity_epochs if self.capacity_max is not None else 0
        return super().training_settings(**{"schedule_epochs": schedule, **changes})

    def capacity(self, epoch: int) -> float:
        """The KL target C at ``epoch`` (0 when no capacity schedule is set)."""
        if self.capacity_max is None:
            return 0.0
        return self.capacity_max * min(1.0, (epoch + 1) / max(1, self.capacity_epochs))

    def _objective(self, reconstruction: torch.Tensor, kl: torch.Tensor, step: Step) -> torch.Tensor:
        """Reconstruction plus the β-weighted KL term (or its distance to the capacity)."""
        if self.capacity_max is not None:
            return reconstruction + self.beta * (kl - self.capacity(step.epoch)).abs()
        return reconstruction + self.beta * step.kl_weight * kl


class VAE(BetaVAEObjective):
    """Gaussian MLP VAE trained on squared error (summed over features) with the β objective of
    `BetaVAEObjective`; transform returns the posterior mean, `latent_traversal` sweeps one
    latent dimension through the decoder. With segments, every segment is a training row and a
    track's code is the mean of the product of its segments' posteriors (`pooled_posterior`)."""

    kind = "vae"

    # the network's interface, overridden by models whose encoder or decoder take more inputs
    def _build_module(self) -> nn.Module:
        return _VAENet(self.shape_["X_features"], self.hidden, self.latent_dim)

    def _posterior(self, module: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """The posterior of every segment: one row per segment (`segment_rows`)."""
        return module.posterior(self._rows(batch["X"]))

    def _decode(self, module: nn.Module, code: torch.Tensor, batch: Batch) -> torch.Tensor:
        """Decoder output for codes: one per segment or one per track."""
        return module.decode(code)

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        mean, log_variance = self._posterior(module, batch)
        decoded = self._decode(module, sample_posterior(mean, log_variance), batch)
        reconstruction = squared_error(decoded, self._rows(batch["X"])).mean()
        kl = kl_to_standard_normal(mean, log_variance).mean()
        return {"loss": self._objective(reconstruction, kl, step),
                "reconstruction": reconstruction, "kl": kl}

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        tracks = len(batch["X"])
        mean, log_variance = self._posterior(module, batch)
        return pooled_posterior(per_segment(mean, tracks), per_segment(log_variance, tracks))[0]

    def _decoded(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return self._decode(module, self._encode(module, batch), batch)

    def latent_traversal(self, X: np.ndarray, dimension: int,
                         values: np.ndarray = np.linspace(-3.0, 3.0, 7), **inputs: Any) -> np.ndarray:
        """Decode the mean code of X while latent ``dimension`` is swept through ``values``
        (prior units); other named inputs (a condition) are taken from the first row of X.
        Returns one reconstruction per value, in the units and shape of X."""
        if not 0 <= dimension < self.latent_dim:
            raise ValueError(f"dimension must be in 0..{self.latent_dim - 1}, got {dimension}")
        module = self._fitted_module()
        codes = self._transform({"X": X, **inputs})
        grid = np.repeat(codes.mean(axis=0, keepdims=True), len(values), axis=0)
        grid[:, dimension] = values
        first_row = {name: value[:1] for name, value in {"X": X, **inputs}.items()}
        row = next(iterate_batches(self._tensors(first_row, fitting=False), 1, torch.device("cpu")))
        context = {name: tensor.expand(len(values), *tensor.shape[1:]) for name, tensor in row.items()}
        with torch.no_grad():
            decoded = self._decode(module, torch.from_numpy(grid), context).numpy()
        return self._input_units(decoded)
