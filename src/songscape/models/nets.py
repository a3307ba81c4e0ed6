"""Network building blocks and Gaussian latent helpers shared by the neural representations."""

from __future__ import annotations

import torch
from torch import nn

LOG_VARIANCE_RANGE = (-12.0, 8.0)  # clamp so exp() stays finite early in training


def mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers through ``sizes`` with LayerNorm + GELU between them (none after the last)."""
    layers: list[nn.Module] = []
    for index, (size_in, size_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(size_in, size_out))
        if index < len(sizes) - 2:
            layers.extend([nn.LayerNorm(size_out), nn.GELU()])
    return nn.Sequential(*layers)


def conv_encoder(channels: tuple[int, ...]) -> nn.Sequential:
    """Stride-2 4×4 convolutions from one input channel through ``channels``, each halving
    height and width, each followed by GroupNorm (independent of batch size) and GELU."""
    layers: list[nn.Module] = []
    for size_in, size_out in zip((1, *channels[:-1]), channels):
        layers.extend([nn.Conv2d(size_in, size_out, kernel_size=4, stride=2, padding=1),
                       nn.GroupNorm(1, size_out), nn.GELU()])
    return nn.Sequential(*layers)


def conv_decoder(channels: tuple[int, ...]) -> nn.Sequential:
    """The mirror of `conv_encoder`: stride-2 transposed convolutions back to one channel,
    each doubling height and width; no activation after the last."""
    layers: list[nn.Module] = []
    reversed_channels = tuple(reversed(channels))
    for index, (size_in, size_out) in enumerate(zip(reversed_channels, (*reversed_channels[1:], 1))):
        layers.append(nn.ConvTranspose2d(size_in, size_out, kernel_size=4, stride=2, padding=1))
        if index < len(channels) - 1:
            layers.extend([nn.GroupNorm(1, size_out), nn.GELU()])
    return nn.Sequential(*layers)


def split_posterior(parameters: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Split an encoder output of 2·d columns into a mean and a clamped log-variance."""
    mean, log_variance = parameters.chunk(2, dim=1)
    return mean, log_variance.clamp(*LOG_VARIANCE_RANGE)


def sample_posterior(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """One reparameterised draw from N(mean, exp(log_variance))."""
    return mean + torch.randn_like(mean) * torch.exp(0.5 * log_variance)


def kl_to_standard_normal(mean: torch.Tensor, log_variance: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, var) ‖ N(0, I)) per row, summed over latent dimensions: shape (n,)."""
    return 0.5 * (mean**2 + log_variance.exp() - 1.0 - log_variance).sum(dim=1)


def squared_error(reconstruction: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Squared error per row, summed over every feature: shape (n,)."""
    return ((reconstruction - target) ** 2).flatten(1).sum(dim=1)


def segment_rows(segments: torch.Tensor) -> torch.Tensor:
    """(tracks, segments, features) → (tracks · segments, features): one row per segment."""
    return segments.flatten(0, 1)


def per_segment(rows: torch.Tensor, tracks: int) -> torch.Tensor:
    """The inverse of `segment_rows`: (tracks · segments, k) → (tracks, segments, k)."""
    return rows.view(tracks, -1, rows.shape[-1])


def pooled_posterior(mean: torch.Tensor, log_variance: torch.Tensor,
                     tempered: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """One Gaussian per track from its segments' posteriors, each (tracks, segments, k): their
    product (precisions add, the mean is the precision-weighted mean: the posterior of segments
    that are independent given the track code), or with ``tempered`` their geometric mean (the
    same mean, the mean precision), so a track counts as one expert whatever its number of
    segments. One segment gives its own posterior either way."""
    precision = torch.exp(-log_variance)
    total = precision.sum(dim=1)
    pooled_mean = (mean * precision).sum(dim=1) / total
    if tempered:
        total = total / mean.shape[1]
    return pooled_mean, -torch.log(total)


def track_error(decoded: torch.Tensor, segments: torch.Tensor) -> torch.Tensor:
    """Squared error of one decoded row per track against each of its segments, summed over
    features and averaged over segments: (tracks, features) vs (tracks, segments, features) → (tracks,)."""
    return ((decoded[:, None, :] - segments) ** 2).sum(dim=2).mean(dim=1)


def two_views(mean: torch.Tensor, log_variance: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two views of each track from its segments' posteriors, (tracks, segments, k) each: the
    segments split at random into two halves (an odd one out left out), each half pooled
    (`pooled_posterior`) into its mean: (tracks, k) twice."""
    tracks, segments, k = mean.shape
    order = torch.rand(tracks, segments, device=mean.device).argsort(dim=1)
    half = segments // 2

    def pooled(chosen: torch.Tensor) -> torch.Tensor:
        index = chosen[..., None].expand(-1, -1, k)
        return pooled_posterior(mean.gather(1, index), log_variance.gather(1, index))[0]

    return pooled(order[:, :half]), pooled(order[:, half:2 * half])


def info_nce(first: torch.Tensor, second: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE between two views of the same tracks, (tracks, k) each: a track's other
    view is its positive and the other tracks' views in the batch its negatives, scored by
    cosine similarity over ``temperature`` (the loss of CLMR and COLA, in CLIP's symmetric form)."""
    logits = nn.functional.normalize(first, dim=1) @ nn.functional.normalize(second, dim=1).T / temperature
    targets = torch.arange(len(logits), device=logits.device)
    return 0.5 * (nn.functional.cross_entropy(logits, targets) + nn.functional.cross_entropy(logits.T, targets))
