"""musicnn (Pons & Serra, 2019) in PyTorch: a pretrained music-tagging network whose weights
ship inside songscape (converted from the TensorFlow checkpoints of the `musicnn` 0.1.0 wheel
by `tools/convert_musicnn.py`; ISC licence, see `weights/LICENSE-musicnn.txt`).

The network, for 3-s patches of a 96-band log-mel spectrogram at 16 kHz (187 frames):
- front-end: batch norm, then timbral convolutions (204 filters of 7 frames × 38 and × 67 mel
  bands) and temporal ones (51 filters of 128, 64 and 32 frames × 1 band), each ReLU → batch
  norm → max over frequency; 561 features per frame;
- mid-end: three 1-D convolutions of 64 filters over 7 frames, the last two residual;
- back-end: max and mean over time of all 753 frame features (interleaved, as TensorFlow
  flattens them), batch norm, dense 200 + ReLU, batch norm (the *penultimate* features), dense
  to the tags (50 MagnaTagATune tags for MTT_musicnn, 50 Million Song Dataset tags for
  MSD_musicnn).

Batch norms are in inference mode (moving statistics, ε = 0.001) and folded into a scale and a
shift. The original casts the mel power to float16, where ``10000·x`` overflows to inf above
x = 6.55 (any loud passage); here the log-mel is computed in float32.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional

from songscape.audio.features import mel_filterbank, power_spectrogram

SAMPLE_RATE, N_FFT, HOP_LENGTH, N_MELS = 16000, 512, 256, 96
PATCH_FRAMES = 187  # 3 s
EMBEDDING_SIZE = 200  # the penultimate layer
MODELS = ("MTT_musicnn", "MSD_musicnn")
WEIGHTS_DIR = Path(__file__).parent / "weights"
_BN_EPSILON = 1e-3
_TIMBRAL = ((38, "conv2d", "batch_normalization_1"), (67, "conv2d_1", "batch_normalization_2"))
_TEMPORAL = ((128, "conv2d_2", "batch_normalization_3"), (64, "conv2d_3", "batch_normalization_4"),
             (32, "conv2d_4", "batch_normalization_5"))
_MIDEND = (("conv2d_5", "batch_normalization_6"), ("conv2d_6", "batch_normalization_7"),
           ("conv2d_7", "batch_normalization_8"))


def log_mel(audio: np.ndarray) -> np.ndarray:
    """musicnn's input: ``log10(10000·mel_power + 1)`` of 16-kHz mono audio, frames first;
    shape (frames, 96), float32. librosa's defaults: centred frames with zero padding, periodic
    Hann window, Slaney mel filters up to 8 kHz."""
    power = power_spectrogram(np.asarray(audio, dtype=np.float32), N_FFT, HOP_LENGTH, pad_mode="constant")
    mel = power @ mel_filterbank(SAMPLE_RATE, N_FFT, N_MELS).T
    return np.log10(np.float32(10000.0) * mel + np.float32(1.0)).astype(np.float32)


def patches(log_mel_frames: np.ndarray) -> np.ndarray:
    """Consecutive non-overlapping 3-s patches, shape (n, 187, 96); a shorter input is padded
    with zeros (silence) to one patch."""
    frames = log_mel_frames
    if len(frames) < PATCH_FRAMES:
        frames = np.pad(frames, ((0, PATCH_FRAMES - len(frames)), (0, 0)))
    count = len(frames) // PATCH_FRAMES
    return frames[:count * PATCH_FRAMES].reshape(count, PATCH_FRAMES, N_MELS)


class _FoldedNorm(nn.Module):
    """An inference-mode batch norm as ``x·scale + shift`` over the channel axis ``axis``."""

    def __init__(self, size: int, axis: int) -> None:
        super().__init__()
        self.axis = axis
        self.register_buffer("scale", torch.ones(size))
        self.register_buffer("shift", torch.zeros(size))

    def load(self, weights: dict[str, np.ndarray], name: str) -> None:
        scale = weights[f"{name}/gamma"] / np.sqrt(weights[f"{name}/moving_variance"] + _BN_EPSILON)
        self.scale.copy_(torch.from_numpy(scale))
        self.shift.copy_(torch.from_numpy(weights[f"{name}/beta"] - weights[f"{name}/moving_mean"] * scale))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[self.axis] = -1
        return x * self.scale.view(shape) + self.shift.view(shape)


class _FrontEndBranch(nn.Module):
    """Conv (ReLU) → batch norm → max over frequency; ``time_padding`` (before, after) frames.

    ReLU and the norm's per-channel affine map are monotone, so the maximum over frequency
    comes from the largest conv value where the norm's scale is positive and from the smallest
    where it is negative. `fold_signs` negates the filters of the negative channels, so one
    max over the conv output serves every channel and the ReLU and the norm run on the reduced
    output only (the same floats: negation is exact, rounding monotone; the full-size ReLU and
    affine passes took a fifth of musicnn's time).
    """

    def __init__(self, filters: int, kernel: tuple[int, int], time_padding: tuple[int, int]) -> None:
        super().__init__()
        self.conv = nn.Conv2d(1, filters, kernel)
        self.norm = _FoldedNorm(filters, axis=1)
        self.register_buffer("sign", torch.ones(filters))
        self.time_padding = time_padding

    def fold_signs(self) -> None:
        """Negate the filters whose norm scale is negative (after loading the weights)."""
        self.sign.copy_(torch.where(self.norm.scale >= 0, 1.0, -1.0))
        self.conv.weight.data.mul_(self.sign.view(-1, 1, 1, 1))
        self.conv.bias.data.mul_(self.sign)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (batch, 1, frames, bands)
        signed_max = self.conv(functional.pad(x, (0, 0, *self.time_padding))).amax(dim=3)
        return self.norm(functional.relu(signed_max * self.sign.view(1, -1, 1)))  # (batch, filters, frames)


class MusicnnNet(nn.Module):
    """The musicnn network (see the module docstring); ``forward`` gives tag logits and the
    penultimate features of a batch of log-mel patches (batch, 187, 96)."""

    def __init__(self, n_tags: int = 50) -> None:
        super().__init__()
        self.input_norm = _FoldedNorm(1, axis=1)
        self.frontend = nn.ModuleList(
            [_FrontEndBranch(204, (7, width), (3, 3)) for width, _, _ in _TIMBRAL]
            + [_FrontEndBranch(51, (length, 1), ((length - 1) // 2, length // 2)) for length, _, _ in _TEMPORAL])
        self.midend = nn.ModuleList([nn.Conv1d(561, 64, 7, padding=3), nn.Conv1d(64, 64, 7, padding=3),
                                     nn.Conv1d(64, 64, 7, padding=3)])
        self.midend_norms = nn.ModuleList([_FoldedNorm(64, axis=1) for _ in range(3)])
        self.pooled_norm = _FoldedNorm(1506, axis=1)
        self.dense = nn.Linear(1506, 200)
        self.dense_norm = _FoldedNorm(200, axis=1)
        self.output = nn.Linear(200, n_tags)

    def forward(self, log_mel_patches: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        x = self.input_norm(log_mel_patches.unsqueeze(1))
        frontend = torch.cat([branch(x) for branch in self.frontend], dim=1)  # (batch, 561, frames)
        features, previous = [frontend], frontend
        for index, (conv, norm) in enumerate(zip(self.midend, self.midend_norms)):
            current = norm(functional.relu(conv(previous)))
            previous = current if index == 0 else current + previous
            features.append(previous)
        frames = torch.cat(features, dim=1)  # (batch, 753, frames)
        pooled = torch.stack([frames.amax(dim=2), frames.mean(dim=2)], dim=2).flatten(1)  # max, mean interleaved
        penultimate = self.dense_norm(functional.relu(self.dense(self.pooled_norm(pooled))))
        return self.output(penultimate), penultimate

    def load_tensorflow_weights(self, weights: dict[str, np.ndarray]) -> MusicnnNet:
        """Copy the variables of the converted checkpoint (TensorFlow names and layouts)."""
        def conv2d(conv: nn.Conv2d, name: str) -> None:  # kernel (h, w, in, out) → (out, in, h, w)
            conv.weight.data.copy_(torch.from_numpy(weights[f"{name}/kernel"].transpose(3, 2, 0, 1)))
            conv.bias.data.copy_(torch.from_numpy(weights[f"{name}/bias"]))

        self.input_norm.load(weights, "batch_normalization")
        for branch, (_, conv, norm) in zip(self.frontend, _TIMBRAL + _TEMPORAL):
            conv2d(branch.conv, conv)
            branch.norm.load(weights, norm)
            branch.fold_signs()
        for conv, norm, (conv_name, norm_name) in zip(self.midend, self.midend_norms, _MIDEND):
            kernel = weights[f"{conv_name}/kernel"][:, :, 0, :]  # (7, in, out): 1 channel, `in` bands wide
            conv.weight.data.copy_(torch.from_numpy(kernel.transpose(2, 1, 0)))
            conv.bias.data.copy_(torch.from_numpy(weights[f"{conv_name}/bias"]))
            norm.load(weights, norm_name)
        self.pooled_norm.load(weights, "batch_normalization_9")
        self.dense_norm.load(weights, "batch_normalization_10")
        for layer, name in ((self.dense, "dense"), (self.output, "dense_1")):
            layer.weight.data.copy_(torch.from_numpy(weights[f"{name}/kernel"].T))
            layer.bias.data.copy_(torch.from_numpy(weights[f"{name}/bias"]))
        return self.eval()


@dataclass(frozen=True)
class TrackTags:
    """One track through musicnn: per-patch tag probabilities and penultimate features, and
    their means over the track's patches."""

    patch_tags: np.ndarray  # (patches, tags)
    patch_embeddings: np.ndarray  # (patches, 200)

    @property
    def tags(self) -> np.ndarray:
        return self.patch_tags.mean(axis=0)

    @property
    def embedding(self) -> np.ndarray:
        return self.patch_embeddings.mean(axis=0)


CPU_BATCH = 1  # patches per forward on the CPU: larger batches page-fault (see songscape.threads)
GPU_BATCH = 256


class Musicnn:
    """A pretrained musicnn (``MTT_musicnn`` or ``MSD_musicnn``) from the packaged weights, or
    from a converted ``.npz`` given by path, on ``device`` (``cpu`` or ``cuda``)."""

    def __init__(self, model: str = "MTT_musicnn", weights: Path | None = None, batch_size: int | None = None,
                 device: str = "cpu") -> None:
        path = Path(weights) if weights is not None else WEIGHTS_DIR / f"{model}.npz"
        if weights is None and model not in MODELS:
            raise ValueError(f"unknown musicnn model '{model}' (packaged: {', '.join(MODELS)})")
        stored = _load_weights(path)
        self.model, self.device = model, torch.device(device)
        self.batch_size = batch_size or (CPU_BATCH if self.device.type == "cpu" else GPU_BATCH)
        self.tag_names: list[str] = [str(tag) for tag in stored["tags"]]
        self.embedding_size = EMBEDDING_SIZE
        self.net = MusicnnNet(len(self.tag_names)).load_tensorflow_weights(stored).to(self.device)

    def predict_patches(self, log_mel_patches: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tag probabilities (n, tags) and penultimate features (n, 200) of log-mel patches."""
        tags, embeddings = [], []
        with torch.inference_mode(), _denormals_flushed():
            for start in range(0, len(log_mel_patches), self.batch_size):
                batch = torch.from_numpy(np.ascontiguousarray(log_mel_patches[start:start + self.batch_size],
                                                              dtype=np.float32)).to(self.device)
                logits, penultimate = self.net(batch)
                tags.append(torch.sigmoid(logits).cpu().numpy())
                embeddings.append(penultimate.cpu().numpy())
        return np.concatenate(tags), np.concatenate(embeddings)

    def track(self, audio: np.ndarray) -> TrackTags:
        """A whole track (16-kHz mono) as batches of 3-s patches."""
        return self.track_patches(patches(log_mel(audio)))

    def track_patches(self, log_mel_patches: np.ndarray) -> TrackTags:
        """A whole track given as its log-mel patches (`patches`)."""
        return TrackTags(*self.predict_patches(log_mel_patches))


@contextmanager
def _denormals_flushed() -> Iterator[None]:
    """Tiny (denormal) floats as zero while the network runs: the CPU handles them slowly
    (measured: about 10% of musicnn's time); the change is below 1e-37. Restored after, so
    nothing else computed in the process changes."""
    torch.set_flush_denormal(True)
    try:
        yield
    finally:
        torch.set_flush_denormal(False)


@lru_cache(maxsize=4)
def _load_weights(path: Path) -> dict[str, np.ndarray]:
    if not path.exists():
        raise FileNotFoundError(f"musicnn weights not found: {path}")
    with np.load(path, allow_pickle=False) as stored:
        return {name: stored[name] for name in stored.files}
