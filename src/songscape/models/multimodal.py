"""A multimodal VAE on audio features and lyric vectors (MVAE, Wu & Goodman 2018): one Gaussian
expert per modality, fused with the prior expert by a product of experts, so a track without
lyrics is encoded from its audio alone."""

from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np
import torch
from torch import nn

from songscape.models.base import as_matrix, as_segments, check_scaling
from songscape.models.contrastive import ContrastiveTerm
from songscape.models.nets import (
    kl_to_standard_normal,
    mlp,
    per_segment,
    pooled_posterior,
    sample_posterior,
    segment_rows,
    split_posterior,
    squared_error,
    track_error,
)
from songscape.models.training import Batch, Step
from songscape.models.vae import BetaVAEObjective

MODALITIES = ("audio", "lyrics")
BALANCES = ("mfa", "size")


def first_eigenvalue(standardized: np.ndarray) -> float:
    """The largest eigenvalue of the covariance of standardized rows: the variance of the
    block's first principal axis (1.0 for fewer than two rows)."""
    if len(standardized) < 2:
        return 1.0
    covariance = np.cov(np.asarray(standardized, dtype=np.float64), rowvar=False)
    return float(max(np.linalg.eigvalsh(np.atleast_2d(covariance))[-1], 1e-12))


def product_of_experts(means: list[torch.Tensor], log_variances: list[torch.Tensor],
                       present: list[torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
    """Fuse Gaussian experts with the N(0, I) prior expert; an expert whose ``present`` entry
    is 0 for a row leaves that row out. Returns the fused mean and log-variance."""
    precision = torch.ones_like(means[0])
    weighted_mean = torch.zeros_like(means[0])
    for mean, log_variance, mask in zip(means, log_variances, present):
        expert_precision = torch.exp(-log_variance) * mask[:, None]
        precision = precision + expert_precision
        weighted_mean = weighted_mean + mean * expert_precision
    return weighted_mean / precision, -torch.log(precision)


class _MultimodalNet(nn.Module):
    def __init__(self, sizes: dict[str, int], hidden: tuple[int, ...], latent_dim: int) -> None:
        super().__init__()
        self.encoders = nn.ModuleDict({m: mlp([sizes[m], *hidden, 2 * latent_dim]) for m in MODALITIES})
        self.decoders = nn.ModuleDict({m: mlp([latent_dim, *reversed(hidden), sizes[m]]) for m in MODALITIES})

    def expert(self, batch: Batch, modality: str) -> tuple[torch.Tensor, torch.Tensor]:
        """One modality's Gaussian expert per track; audio segments give one expert together,
        the geometric mean of theirs (`pooled_posterior`, tempered), so the number of segments
        does not set the weight of audio against lyrics."""
        values = batch[modality]
        if values.dim() == 2:
            return split_posterior(self.encoders[modality](values))
        mean, log_variance = split_posterior(self.encoders[modality](segment_rows(values)))
        return pooled_posterior(per_segment(mean, len(values)), per_segment(log_variance, len(values)), tempered=True)

    def posterior(self, batch: Batch, use: tuple[str, ...]) -> tuple[torch.Tensor, torch.Tensor]:
        """The fused posterior from the modalities in ``use`` that each row has."""
        experts = [self.expert(batch, m) for m in use]
        present = [batch[f"{m}_mask"] for m in use]
        return product_of_experts([e[0] for e in experts], [e[1] for e in experts], present)


class MultimodalVAE(ContrastiveTerm, BetaVAEObjective):
    """MVAE over ``audio`` (n, d_audio) or its segments (n, segments, d_audio) and ``lyrics``
    (n, d_lyrics) with ``lyrics_mask`` (n,) saying which rows have lyrics. transform returns the
    fused posterior mean from whatever each track has; a track's code is decoded against each
    of its audio segments.

    Each modality's squared error is balanced and then multiplied by its weight
    (``audio_weight``, ``lyrics_weight``). ``balance="mfa"`` (default) divides it by the variance
    of the modality's own first principal axis, as multiple factor analysis (Escofier & Pagès)
    weights blocks, so that neither modality's main direction outweighs the other's: a block of
    many correlated audio statistics no longer drowns a lyric direction such as language.
    ``balance="size"`` divides by the number of features instead. Either is then multiplied by
    the mean of the two divisors, so the loss keeps its scale. With ``subset_training`` the loss adds the ELBOs of each
    modality alone to the joint ELBO (the MVAE sub-sampling), so single-modality codes land in
    the same space as joint ones. β, warm-up and capacity as in `BetaVAEObjective`.
    ``scaling`` standardizes the audio, ``lyrics_scaling`` the lyric vectors: as one block by
    default, so an SVD's leading axes stay leading (per dimension, the language of dealt lyrics
    was lost on one seed in five). With ``contrast_weight`` > 0 the audio expert's views of two
    random halves of a track's segments must also find each other among the batch's tracks
    (`ContrastiveTerm`; lyrics, one vector per track, give no second view).
    """

    kind = "mvae"

    def __init__(self, audio_weight: float = 1.0, lyrics_weight: float = 1.0, balance: str = "mfa",
                 subset_training: bool = True, lyrics_scaling: str = "block", latent_dim: int = 16,
                 **kwargs: Any) -> None:
        super().__init__(latent_dim=latent_dim, **kwargs)
        self.lyrics_scaling = check_scaling(lyrics_scaling)
        if balance not in BALANCES:
            raise ValueError(f"balance must be one of {', '.join(BALANCES)}, not {balance!r}")
        self.audio_weight = audio_weight
        self.lyrics_weight = lyrics_weight
        self.balance = balance
        self.subset_training = subset_training

    def fit(self, audio: np.ndarray, lyrics: np.ndarray | None = None,
            lyrics_mask: np.ndarray | None = None) -> MultimodalVAE:
        """Learn from audio features, lyric vectors and the mask of rows with lyrics."""
        return self._fit({"audio": audio, "lyrics": lyrics, "lyrics_mask": lyrics_mask})

    def transform(self, audio: np.ndarray, lyrics: np.ndarray | None = None,
                  lyrics_mask: np.ndarray | None = None) -> np.ndarray:
        """Fused posterior means (n, latent_dim); rows without lyrics use audio alone."""
        return self._transform({"audio": audio, "lyrics": lyrics, "lyrics_mask": lyrics_mask})

    def reconstruct(self, audio: np.ndarray, lyrics: np.ndarray | None = None,
                    lyrics_mask: np.ndarray | None = None) -> dict[str, np.ndarray]:
        """Both modalities decoded from the fused code, in input units (lyrics decoded for
        every row, also those that had none)."""
        inputs = {"audio": audio, "lyrics": lyrics, "lyrics_mask": lyrics_mask}
        return {m: self.scalers_[m].inverse_transform(
                    self._map_batches(inputs, partial(self._decoded_modality, modality=m)))
                for m in MODALITIES}

    def _decoded_modality(self, module: nn.Module, batch: Batch, modality: str) -> torch.Tensor:
        return module.decoders[modality](self._encode(module, batch))

    def _tensors(self, inputs: dict[str, Any], fitting: bool) -> Batch:
        audio = as_segments(inputs["audio"])
        n = len(audio)
        if inputs["lyrics"] is None:
            lyrics = np.zeros((n, self.shape_.get("lyrics_features", 1)))
            mask = np.zeros(n, dtype=bool)
        else:
            lyrics = as_segments(inputs["lyrics"]) if np.ndim(inputs["lyrics"]) == 3 else as_matrix(inputs["lyrics"])
            mask = (np.ones(n, dtype=bool) if inputs["lyrics_mask"] is None
                    else np.asarray(inputs["lyrics_mask"], dtype=bool))
        if len(lyrics) != n or len(mask) != n:
            raise ValueError(f"audio has {n} rows but lyrics {len(lyrics)} and lyrics_mask {len(mask)}")
        if fitting and not mask.any():
            raise ValueError("MultimodalVAE.fit needs some rows with lyrics")
        audio_tensor = self._standardize("audio", audio, fitting)
        lyrics_tensor = self._standardize("lyrics", lyrics, fitting, rows=mask, scaling=self.lyrics_scaling)
        if fitting:
            for name, standardized in (("audio", audio_tensor.flatten(0, 1)),
                                       ("lyrics", lyrics_tensor[torch.from_numpy(mask)].reshape(-1, lyrics.shape[-1]))):
                self.shape_[f"{name}_divisor"] = (first_eigenvalue(standardized.numpy()) if self.balance == "mfa"
                                                  else float(standardized.shape[1]))
        return {"audio": audio_tensor,
                "lyrics": torch.where(torch.from_numpy(mask).view(-1, *[1] * (lyrics_tensor.dim() - 1)), lyrics_tensor, 0.0),
                "audio_mask": torch.ones(n), "lyrics_mask": torch.from_numpy(mask.astype(np.float32))}

    def _build_module(self) -> nn.Module:
        sizes = {m: self.shape_[f"{m}_features"] for m in MODALITIES}
        return _MultimodalNet(sizes, self.hidden, self.latent_dim)

    def _reconstruction(self, module: nn.Module, code: torch.Tensor, batch: Batch,
                        use: tuple[str, ...]) -> torch.Tensor:
        """Weighted, balanced squared error of the modalities in ``use``, per row."""
        divisors = {m: self.shape_[f"{m}_divisor"] for m in MODALITIES}
        scale = float(np.mean(list(divisors.values())))
        weights = {"audio": self.audio_weight, "lyrics": self.lyrics_weight}
        total = code.new_zeros(len(code))
        for m in use:
            decoded, target = module.decoders[m](code), batch[m]
            error = (track_error(decoded, target) if target.dim() == 3 else squared_error(decoded, target)) / divisors[m]
            total = total + weights[m] * scale * error * batch[f"{m}_mask"]
        return total

    def _loss(self, module: nn.Module, batch: Batch, step: Step) -> dict[str, torch.Tensor]:
        subsets = [MODALITIES, *((m,) for m in MODALITIES)] if self.subset_training else [MODALITIES]
        terms: dict[str, torch.Tensor] = {}
        loss = batch["audio"].new_zeros(())
        for use in subsets:
            rows = torch.stack([batch[f"{m}_mask"] for m in use]).amax(dim=0)  # rows with any of use
            count = rows.sum().clamp(min=1.0)
            mean, log_variance = module.posterior(batch, use)
            code = sample_posterior(mean, log_variance)
            reconstruction = (self._reconstruction(module, code, batch, use) * rows).sum() / count
            kl = (kl_to_standard_normal(mean, log_variance) * rows).sum() / count
            name = "+".join(use)
            terms[f"reconstruction_{name}"], terms[f"kl_{name}"] = reconstruction, kl
            loss = loss + self._objective(reconstruction, kl, step)
        contrast = self._audio_contrast(module, batch)
        if contrast is not None:
            loss, terms["contrast"] = loss + contrast, contrast
        return {"loss": loss, **terms}

    def _audio_contrast(self, module: nn.Module, batch: Batch) -> torch.Tensor | None:
        """The contrastive term on the audio expert's per-segment posteriors (None without segments)."""
        audio = batch["audio"]
        if audio.dim() != 3:
            return None
        mean, log_variance = split_posterior(module.encoders["audio"](segment_rows(audio)))
        return self._contrast(per_segment(mean, len(audio)), per_segment(log_variance, len(audio)), audio.shape[-1])

    def _encode(self, module: nn.Module, batch: Batch) -> torch.Tensor:
        return module.posterior(batch, MODALITIES)[0]
