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
from songscape.models.nets import mlp, sample_posterior, split_posterior, squared_error
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Batch, Step, mean_loss, seed_everything

GMM_REGULARIZATION = 1e-4  # added to mixture variances, as sklearn's reg_covar
RESTART_SEED_STRIDE = 101  # restart r of seed s trains with seed s·stride + r


class _VaDENet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int,
                 n_components: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, 2 * latent_dim])
        self.decoder = mlp([latent_dim, *reversed(hidden), n_features])
        self.prior_logits = nn.Parameter(torch.zeros(n_components))
        self.prior_means = nn.Parameter(torch.zeros(n_components, latent_dim))
        self.prior_log_variances = nn.Parameter(torch.zeros(n_components, latent_dim))

    def posterior(self, inputs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return split_posterior(self.encoder(inputs))

    def component_log_joint(self, code: torch.Tensor) -> torch.Tensor:
        """log p(c) + log p(z | c) for every row of ``code`` and component: shape (n, K)."""
        log_weights = torch.log_softmax(self.prior_logits, dim=0)
        difference = code[:, None, :] - self.prior_means[None]
        log_density = -0.5 * (math.log(2 * math.pi) + self.prior_log_variances
                              + difference**2 / self.prior_log_variances.exp()).sum(dim=2)
        return log_weights + log_density

    def initialise_prior(self, mixture: GaussianMixture) -> None:
        with torch.no_grad():
            self.prior_logits.copy_(torch.from_numpy(np.log(mixture.weights_)))
            self.prior_means.copy_(torch.from_numpy(mixture.means_))
            self.prior_log_variances.copy_(torch.from_numpy(np.log(mixture.covariances_)))


def fit_mixture(codes: np.ndarray, n_components: int, seed: int) -> GaussianMixture:
    """A diagonal Gaussian mixture on ``codes``, seeded."""
    return GaussianMixture(n_components, covariance_type="diag", reg_covar=GMM_REGULARIZATION,
                           random_state=seed).fit(codes)


class VaDE(NeuralRepresentation):
    """Gaussian-mixture-prior VAE.

    Fitting: the encoder mean and decoder are pre-trained as an autoencoder
    (``pretrain_epochs``); a diagonal GMM on the pre-trained codes initialises the prior
    (``n_components`` components; when None, the count K-Means chooses on those codes by
    silhouette, as `songscape run` does without ``--k``); the ELBO is then trained from ``n_init`` GMM initialisations and the restart
    with the lowest loss on all rows is kept: the choice never looks at labels.
    transform returns the posterior mean; `predict` the most probable mixture component of it.
    """

    kind = "vade"

    def __init__(self, n_components: int | None = None, pretrain_epochs: int = 100, n_init: int = 3, latent_dim: int = 8,
                 epochs: int = 150, **kwargs: Any) -> None:
        super().__init__(latent_dim=latent_dim, epochs=epochs, **kwargs)
        self.n_components = n_components
        self.pretrain_epochs = pretrain_epochs
        self.n_init = n_init

    def _tensors(self, inputs: dict[str, Any], fitting: bool) -> Batch:
        tensors = super()._tensors(inputs, fitting)
        if fitting:  # until `_fit` chooses the count on the pre-trained codes
            self.shape_["n_components"] = self.n_components or 2
        return tensors

    def _build_module(self) -> nn.Module:
        return _VaDENet(self.shape_["X_features"], self.hidden, self.latent_dim,
                        self.shape_["n_components"])

    def _pretrain_loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        reconstruction = squared_error(module.decoder(module.posterior(batch["X"])[0]), batch["X"]).mean()
        return {"loss": reconstruction}

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        mean, log_variance = module.posterior(batch["X"])
        code = sample_posterior(mean, log_variance)
        reconstruction = squared_error(module.decoder(code), batch["X"]).mean()
        log_joint = module.component_log_joint(code)
        responsibility = torch.softmax(log_joint, dim=1)
        variance_ratio = log_variance.exp()[:, None, :] / module.prior_log_variances.exp()[None]
        mean_term = (mean[:, None, :] - module.prior_means[None]) ** 2 / module.prior_log_variances.exp()[None]
        expected_log_prior_z = 0.5 * (module.prior_log_variances[None] + variance_ratio + mean_term).sum(dim=2)
        log_weights = torch.log_softmax(module.prior_logits, dim=0)
        kl = ((responsibility * expected_log_prior_z).sum(dim=1)
              - (responsibility * (log_weights - torch.log(responsibility + 1e-10))).sum(dim=1)
              - 0.5 * (1.0 + log_variance).sum(dim=1)).mean()
        return {"loss": reconstruction + kl, "reconstruction": reconstruction, "kl": kl}

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return module.posterior(batch["X"])[0]

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
            codes = pretrained.posterior(data["X"])[0].numpy().astype(np.float64)
        self.shape_["n_components"] = self._choose_components(codes)
        best_loss, best_restart = float("inf"), None
        for restart in range(self.n_init):
            seed = self.random_state * RESTART_SEED_STRIDE + restart
            module = self._build_module()
            encoder_decoder = {k: v for k, v in pretrained.state_dict().items() if not k.startswith("prior")}
            module.load_state_dict(encoder_decoder, strict=False)
            module.initialise_prior(fit_mixture(codes, self.shape_["n_components"], seed))
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
            return torch.softmax(module.component_log_joint(self._encode(module, batch)), dim=1)
        return self._map_batches({"X": X}, probabilities)

    def predict(self, X: np.ndarray) -> np.ndarray:
        """The most probable mixture component for each row of X."""
        return self.predict_proba(X).argmax(axis=1)
