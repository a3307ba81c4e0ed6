"""A group VAE (multi-level VAE, Bouchacourt et al. 2018): one code shared by every segment of a
track and one code per segment for what varies inside it. The grouping is "same file", never a
label: it is the free supervision a library gives, which a linear map of track averages cannot use."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from songscape.models.contrastive import ContrastiveTerm
from songscape.models.nets import (
    kl_to_standard_normal,
    mlp,
    per_segment,
    pooled_posterior,
    sample_posterior,
    split_posterior,
    squared_error,
)
from songscape.models.training import Batch, Step
from songscape.models.vae import VAE


class _GroupNet(nn.Module):
    def __init__(self, n_features: int, hidden: tuple[int, ...], latent_dim: int, segment_dim: int) -> None:
        super().__init__()
        self.sizes = (2 * latent_dim, 2 * segment_dim)
        self.encoder = mlp([n_features, *hidden, sum(self.sizes)])
        self.decoder = mlp([latent_dim + segment_dim, *reversed(hidden), n_features])

    def posteriors(self, rows: torch.Tensor, tracks: int) -> tuple[tuple[torch.Tensor, torch.Tensor],
                                                                    tuple[torch.Tensor, torch.Tensor]]:
        """Each segment's vote on its track's posterior, (tracks, segments, k) mean and
        log-variance, and each segment's own posterior, from one row per segment."""
        track_part, segment_part = self.encoder(rows).split(self.sizes, dim=1)
        mean, log_variance = split_posterior(track_part)
        return (per_segment(mean, tracks), per_segment(log_variance, tracks)), split_posterior(segment_part)


class GroupVAE(ContrastiveTerm, VAE):
    """Group VAE on (tracks, segments, features): a track code of ``latent_dim`` shared by the
    track's segments and a segment code of ``segment_dim`` for each segment.

    The encoder reads one segment and gives both a segment posterior and a vote on the track
    posterior; the votes are multiplied (`pooled_posterior`), one track code is drawn and
    decoded with each segment's own code against that segment. Per segment, the loss is the
    squared error + β·(the segment KL + the track KL divided by the number of segments), the
    ELBO of the whole track over its segment count. transform returns the track posterior mean;
    `reconstruct` and `latent_traversal` decode a track code with the segment code at its prior
    mean (a track's typical segment). On rows of features (one segment per track) it is a VAE
    with ``segment_dim`` more latent dimensions that transform leaves out. With
    ``contrast_weight`` > 0, the votes of two random halves of a track's segments must also find
    each other among the batch's tracks (`ContrastiveTerm`).
    """

    kind = "group-vae"

    def __init__(self, segment_dim: int = 4, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.segment_dim = segment_dim

    def _build_module(self) -> nn.Module:
        return _GroupNet(self.shape_["X_features"], self.hidden, self.latent_dim, self.segment_dim)

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        tracks, segments = batch["X"].shape[:2]
        rows = self._rows(batch["X"])
        (votes_mean, votes_log_variance), (segment_mean, segment_log_variance) = module.posteriors(rows, tracks)
        track_mean, track_log_variance = pooled_posterior(votes_mean, votes_log_variance)
        track_code = sample_posterior(track_mean, track_log_variance).repeat_interleave(segments, dim=0)
        segment_code = sample_posterior(segment_mean, segment_log_variance)
        decoded = module.decoder(torch.cat([track_code, segment_code], dim=1))
        reconstruction = squared_error(decoded, rows).mean()
        kl = (kl_to_standard_normal(track_mean, track_log_variance).mean() / segments
              + kl_to_standard_normal(segment_mean, segment_log_variance).mean())
        terms = {"loss": self._objective(reconstruction, kl, step), "reconstruction": reconstruction, "kl": kl}
        contrast = self._contrast(votes_mean, votes_log_variance, rows.shape[1])
        if contrast is not None:
            terms = {**terms, "loss": terms["loss"] + contrast, "contrast": contrast}
        return terms

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return pooled_posterior(*module.posteriors(self._rows(batch["X"]), len(batch["X"]))[0])[0]

    def _decode(self, module: nn.Module, code: torch.Tensor, batch: Batch) -> torch.Tensor:
        return module.decoder(torch.cat([code, code.new_zeros(len(code), self.segment_dim)], dim=1))
