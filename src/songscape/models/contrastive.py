"""Learning from "these segments are one track" directly: two halves of a track's segments are a
positive pair, the other tracks in the batch negatives (InfoNCE, as CLMR and COLA learn music
representations without labels). `ContrastiveTerm` adds it beside a VAE's ELBO; the plain
`ContrastiveEncoder` (no decoder) is the baseline that shows what the VAE part adds."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from songscape.models.nets import info_nce, mlp, per_segment, two_views
from songscape.models.neural import NeuralRepresentation
from songscape.models.training import Batch, Step


class ContrastiveTerm(NeuralRepresentation):
    """The contrastive part of a model's loss: ``contrast_weight`` · features · InfoNCE between two
    views of each track (its segments split in two halves at random, each half's posterior pooled;
    `two_views`), cosine similarity over ``temperature``. The weight is per input feature, so it
    means the same next to a reconstruction error summed over 30 features or over 1 000; 0 (the
    default) leaves the model as it was. Tracks of one segment have no second view: no term."""

    def __init__(self, contrast_weight: float = 0.0, temperature: float = 1.0, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.contrast_weight = contrast_weight
        self.temperature = temperature

    def _contrast(self, mean: torch.Tensor, log_variance: torch.Tensor, n_features: int) -> torch.Tensor | None:
        """The weighted term for per-segment posteriors (tracks, segments, k), or None when it is
        off or the tracks have fewer than two segments (or the batch fewer than two tracks)."""
        if self.contrast_weight <= 0 or mean.shape[1] < 2 or mean.shape[0] < 2:
            return None
        first, second = two_views(mean, log_variance)
        return self.contrast_weight * n_features * info_nce(first, second, self.temperature)


class _EncoderNet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoder = mlp([n_features, *hidden, latent_dim])


class ContrastiveEncoder(ContrastiveTerm):
    """An MLP encoder of segments trained by InfoNCE alone (no decoder, no prior): two halves of
    a track's segments, each the mean of its segments' codes, must find each other among the
    batch's tracks. transform gives the mean code of all of a track's segments, scaled to unit
    length (the loss sees directions only). Needs segments (`audio.excerpt: segments`)."""

    kind = "contrastive"

    def __init__(self, contrast_weight: float = 1.0, **kwargs: Any) -> None:
        super().__init__(contrast_weight=contrast_weight, **kwargs)

    def _build_module(self) -> nn.Module:
        return _EncoderNet(self.shape_["X_features"], self.hidden, self.latent_dim)

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        tracks = len(batch["X"])
        codes = per_segment(module.encoder(self._rows(batch["X"])), tracks)
        if codes.shape[1] < 2:
            raise ValueError("a contrastive encoder needs two segments or more per track (audio.excerpt: segments)")
        # equal precisions: pooling is the plain mean of each half's codes
        contrast = self._contrast(codes, torch.zeros_like(codes), 1)
        if contrast is None:  # a batch of one track has no negative
            contrast = codes.sum() * 0.0
        return {"loss": contrast, "contrast": contrast}

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        codes = per_segment(module.encoder(self._rows(batch["X"])), len(batch["X"])).mean(dim=1)
        return nn.functional.normalize(codes, dim=1)
