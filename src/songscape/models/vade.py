"""A VAE with a Gaussian-mixture prior (VaDE, Jiang et al. 2017): it embeds and clusters at
once, so it is both a representation and a clusterer (`predict`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import torch
from sklearn.mixture import GaussianMixture
from torch import nn

from songscape.cluster.algorithms import choose_k
from songscape.models.nets import mlp, per_segment, pooled_posterior, sample_posterior, split_posterior, track_error
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Batch, Step, mean_loss, seed_everything

GMM_REGULARIZATION = 1e-4  # added to mixture variances, as sklearn's reg_covar
RESTART_SEED_STRIDE = 101  # restart r of seed s trains with seed s·stride + r


class GaussianMixturePrior(nn.Module):
    """p(c) p(z | c): K Gaussians with full (Cholesky-factored) or diagonal covariances."""

    def __init__(self, n_components: int, latent_dim: int, covariance_type: str) -> None:
        super().__init__()
        self.covariance_type = covariance_type
        self.logits = nn.Parameter(torch.zeros(n_components))
        self.means = nn.Parameter(torch.zeros(n_components, latent_dim))
        # lower triangle: Cholesky factor below the diagonal, log of its diagonal on it
        self.cholesky_raw = nn.Parameter(torch.zeros(n_components, latent_dim, latent_dim))

    def cholesky(self) -> torch.Tensor:
        """Lower-triangular factors L with Σ = L Lᵀ: shape (K, d, d)."""
        diagonal = torch.diag_embed(torch.diagonal(self.cholesky_raw, dim1=1, dim2=2).exp())
        if self.covariance_type == "diag":
            return diagonal
        return diagonal + torch.tril(self.cholesky_raw, diagonal=-1)

    def expected_log_joint(self, mean: torch.Tensor, log_variance: torch.Tensor | None = None) -> torch.Tensor:
        """E_q[log p(c) + log p(z | c)] under q(z) = N(mean, diag exp(log_variance)) for every
        row and component (log p(c) + log p(mean | c) when log_variance is None): (n, K)."""
        factor = self.cholesky()
        eye = torch.eye(factor.shape[-1], dtype=factor.dtype, device=factor.device).expand_as(factor)
        inverse = torch.linalg.solve_triangular(factor, eye, upper=False)  # L⁻¹
        whitened = torch.einsum("kij,nkj->nki", inverse, mean[:, None, :] - self.means[None])
        quadratic = (whitened**2).sum(dim=2)
        if log_variance is not None:  # tr(Σ⁻¹ diag σ²); diag(Σ⁻¹)_j = Σ_i (L⁻¹)_ij²
            quadratic = quadratic + log_variance.exp() @ (inverse**2).sum(dim=1).T
        log_determinant = 2 * torch.log(torch.diagonal(factor, dim1=1, dim2=2)).sum(dim=1)
        dimension = mean.shape[1]
        log_density = -0.5 * (dimension * math.log(2 * math.pi) + log_determinant + quadratic)
        return torch.log_softmax(self.logits, dim=0) + log_density

    def initialise(self, mixture: GaussianMixture) -> None:
        """Take weights, means and covariances from a fitted mixture of the same type."""
        covariances = mixture.covariances_
        if self.covariance_type == "diag":
            covariances = np.stack([np.diag(c) for c in covariances])
        factors = np.linalg.cholesky(covariances)
        raw = np.tril(factors, k=-1) + np.stack([np.diag(np.log(np.diag(f))) for f in factors])
        with torch.no_grad():
            self.logits.copy_(torch.from_numpy(np.log(mixture.weights_)))
            self.means.copy_(torch.from_numpy(mixture.means_))
            self.cholesky_raw.copy_(torch.from_numpy(raw))


class _VaDENet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int,
                 n_components: int, covariance_type: str) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])
        self.prior = GaussianMixturePrior(n_components, latent_dim, covariance_type)

    def posterior(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_posterior(self.encoder(inputs))


def fit_mixture(codes: np.ndarray, n_components: int, covariance_type: str, seed: int) -> GaussianMixture:
    """A Gaussian mixture on ``codes``, seeded."""
    return GaussianMixture(n_components, covariance_type=covariance_type, reg_covar=GMM_REGULARIZATION,
                           random_state=seed).fit(codes)


class VaDE(NeuralRepresentation):
    """Gaussian-mixture-prior VAE.

    Fitting: the encoder mean and decoder are pre-trained as an autoencoder
    (``pretrain_epochs``); a GMM on the pre-trained codes initialises the prior
    (``n_components`` components; when None, the count K-Means chooses on those codes by
    silhouette, as `songscape run` does without ``--k``); the ELBO is then trained from
    ``n_init`` GMM initialisations and the restart with the lowest loss on all rows is kept:
    the choice never looks at labels. ``covariance_type`` "full" (default; Cholesky-factored)
    or "diag" (the original VaDE) sets the components' covariances.
    transform returns the posterior mean; `predict` the most probable mixture component of it.
    With segments, the mixture sits on the track codes: a track's posterior is the product of
    its segments' (`pooled_posterior`) and one draw of it is decoded against every segment.
    """

    kind = "vade"

    def __init__(self, n_components: int | None = None, covariance_type: str = "full",
                 pretrain_epochs: int = 100, n_init: int = 3, latent_dim: int = 8,
                 epochs: int = 150, batch_size: int = 64, learning_rate: float = 1e-3, **kwargs: Any) -> None:
        super().__init__(latent_dim=latent_dim, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
                         **kwargs)
        if covariance_type not in ("full", "diag"):
            raise ValueError(f"covariance_type must be 'full' or 'diag', got {covariance_type!r}")
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.pretrain_epochs = pretrain_epochs
        self.n_init = n_init

    def _tensors(self, inputs: dict[str, Any], fitting: bool) -> Batch:
        tensors = super()._tensors(inputs, fitting)
        if fitting:  # until `_fit` chooses the count on the pre-trained codes
            self.shape_["n_components"] = self.n_components or 2
        return tensors

    def _build_module(self) -> nn.Module:
        return _VaDENet(self.shape_["X_features"], self.hidden, self.latent_dim,
                        self.shape_["n_components"], self.covariance_type)

    def _pretrain_loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        reconstruction = track_error(module.decoder(self._track_posterior(module, batch)[0]), batch["X"]).mean()
        return {"loss": reconstruction}

    def _track_posterior(self, module: nn.Module, batch: Batch) -> tuple[torch.Tensor, torch.Tensor]:
        """Each track's posterior: the product of its segments' (`pooled_posterior`)."""
        tracks = len(batch["X"])
        mean, log_variance = module.posterior(self._rows(batch["X"]))
        return pooled_posterior(per_segment(mean, tracks), per_segment(log_variance, tracks))

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        """Squared error + KL(q(z, c | x) ‖ p(z, c)), with q(c | x) = p(c | z) at a sampled z of
        the track; per segment (the segments' errors are averaged, the KL divided by their count)."""
        mean, log_variance = self._track_posterior(module, batch)
        code = sample_posterior(mean, log_variance)
        reconstruction = track_error(module.decoder(code), batch["X"]).mean()
        responsibility = torch.softmax(module.prior.expected_log_joint(code), dim=1)
        expected_log_prior = module.prior.expected_log_joint(mean, log_variance)
        entropy = 0.5 * (math.log(2 * math.pi) + 1.0 + log_variance).sum(dim=1)  # of q(z | x)
        kl = ((responsibility * (torch.log(responsibility + 1e-10) - expected_log_prior)).sum(dim=1)
              - entropy).mean() / batch["X"].shape[1]
        return {"loss": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return self._track_posterior(module, batch)[0]

    def _decoded(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return module.decoder(self._encode(module, batch))

    def _choose_components(self, codes: np.ndarray) -> int:
        """``n_components``, or the k that K-Means on the pre-trained codes chooses by
        silhouette (the rule of `songscape run` without ``--k``)."""
        if self.n_components is not None:
            return self.n_components
        return len(np.unique(choose_k("kmeans", codes, self.random_state).labels))

    def _fit(self, inputs: dict[str, Any]) -> VaDE:
        self.shape_ = {}
        data = self._tensors(inputs, fitting=True)
        generator = seed_everything(self.random_state)
        pretrained = self._build_module()
        history = [{"phase": "pretrain", **row} for row in self._train(
            pretrained, self._pretrain_loss, data, generator, epochs=self.pretrain_epochs)]
        with torch.no_grad():
            codes = self._track_posterior(pretrained, data)[0].numpy().astype(np.float64)
        self.shape_["n_components"] = self._choose_components(codes)
        best_loss, best_restart = float("inf"), None
        for restart in range(self.n_init):
            seed = self.random_state * RESTART_SEED_STRIDE + restart
            module = self._build_module()
            encoder_decoder = {k: v for k, v in pretrained.state_dict().items() if not k.startswith("prior")}
            module.load_state_dict(encoder_decoder, strict=False)
            module.prior.initialise(fit_mixture(codes, self.shape_["n_components"],
                                                self.covariance_type, seed))
            rows = self._train(module, self._loss, data, seed_everything(seed))
            torch.manual_seed(seed)
            loss = mean_loss(module.eval(), self._loss, data, self.batch_size, Step(0),
                             torch.device("cpu"))["loss"]
            if loss < best_loss:
                best_loss, best_restart = loss, (module, [{"phase": f"restart {restart}", **r} for r in rows])
        self.module_ = best_restart[0]
        self.history_ = history + best_restart[1]
        self.shape_["training_loss"] = best_loss
        return self

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        """Posterior probability of each mixture component given the code of X: (n, K)."""
        def probabilities(module: nn.Module, batch: Batch) -> torch.Tensor:
            return torch.softmax(module.prior.expected_log_joint(self._encode(module, batch)), dim=1)
        return self._map_batches({"X": X}, probabilities)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable mixture component for each row of X."""
        return self.predict_proba(X).argmax(axis=1)
