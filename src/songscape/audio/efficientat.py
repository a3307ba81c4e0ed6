"""EfficientAT ``mn04_as`` (Schmid, Koutini & Widmer, "Efficient large-scale audio tagging via
transformer-to-CNN knowledge distillation", ICASSP 2023): a MobileNetV3 of width 0.4 trained on
AudioSet (527 classes: genres, moods, instruments, voices and everyday sounds; mAP 0.432).
Written here from the paper and the reference implementation; the weights ship inside songscape
(`weights/mn04_as_mAP_432.pt`, MIT licence, see `weights/LICENSE-efficientat.txt`) and their
SHA-256 is checked when they are loaded.

The input, as the network was trained on it: 32-kHz mono, pre-emphasis (x[n] − 0.97·x[n−1]),
an STFT of 1 024 points with an 800-sample symmetric Hann window and a 320-sample hop (centred,
reflected edges), power, 128 Kaldi-style triangular mel bands from 0 to 15 kHz, ``log(mel +
1e-5)``, then ``(x + 4.5) / 5``.

The network:
- a 3 × 3 stride-2 convolution to 8 channels, batch norm, hard-swish;
- 15 inverted residual blocks (1 × 1 expansion, depthwise k × k convolution, optional
  squeeze-and-excitation over channels, 1 × 1 projection; a residual sum where the shape
  allows), the channel plan of MobileNetV3-Large scaled by 0.4;
- a 1 × 1 convolution to 384 channels; the mean over frequency and time is the embedding;
- the head: 384 → 512 (hard-swish) → 527 logits; sigmoid gives the class probabilities.

Batch norms run in inference mode (stored statistics, ε = 0.001). The network is fully
convolutional before its mean, so clips of any length above about 0.3 s can be read.

``mn04_as_blocks`` is the same network read from more than its last layer, as EfficientAT's
HEAR wrapper reads it: the mean over frequency and time of every inverted residual block's
output, beside the 384 of the last layer (888 values): the early blocks keep timbre and
texture that the AudioSet head's last layer has traded for its classes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch
from torch import nn

SAMPLE_RATE, N_FFT, WIN_LENGTH, HOP_LENGTH, N_MELS = 32000, 1024, 800, 320, 128
F_MIN, F_MAX = 0.0, 15000.0
PRE_EMPHASIS = 0.97
EMBEDDING_SIZE = 384
BLOCKS_EMBEDDING_SIZE = 888  # 504 from the 15 blocks and the last layer's 384
MODEL = "mn04_as"
BLOCKS_MODEL = "mn04_as_blocks"  # the same weights, embedding pooled from every block too
MODELS = (MODEL, BLOCKS_MODEL)
WEIGHTS_DIR = Path(__file__).parent / "weights"
WEIGHTS_FILE = WEIGHTS_DIR / "mn04_as_mAP_432.pt"
WEIGHTS_SHA256 = "899a8c6217063f6941793102a2780b3dd788ab11fce468d9cf5f0577c453321c"
LABELS_FILE = WEIGHTS_DIR / "audioset_labels.txt"
WIDTH = 0.4
_BN_EPSILON = 1e-3
# MobileNetV3-Large: (input, kernel, expanded, output, squeeze-excitation, hard-swish, stride)
_BLOCKS = ((16, 3, 16, 16, False, False, 1), (16, 3, 64, 24, False, False, 2), (24, 3, 72, 24, False, False, 1),
           (24, 5, 72, 40, True, False, 2), (40, 5, 120, 40, True, False, 1), (40, 5, 120, 40, True, False, 1),
           (40, 3, 240, 80, False, True, 2), (80, 3, 200, 80, False, True, 1), (80, 3, 184, 80, False, True, 1),
           (80, 3, 184, 80, False, True, 1), (80, 3, 480, 112, True, True, 1), (112, 3, 672, 112, True, True, 1),
           (112, 5, 672, 160, True, True, 2), (160, 5, 960, 160, True, True, 1), (160, 5, 960, 160, True, True, 1))


class WeightsError(ValueError):
    """The network's weights file is missing or not the one songscape ships."""


def scaled_channels(channels: float, divisor: int = 8) -> int:
    """A channel count scaled to a multiple of ``divisor`` (rounded to nearest, never more than
    10 % below the unrounded count), as MobileNets size their layers."""
    rounded = max(divisor, int(channels + divisor / 2) // divisor * divisor)
    return rounded + divisor if rounded < 0.9 * channels else rounded


def kaldi_mel_filterbank(n_mels: int = N_MELS, n_fft: int = N_FFT, sample_rate: int = SAMPLE_RATE,
                         f_min: float = F_MIN, f_max: float = F_MAX) -> np.ndarray:
    """Triangular filters equally spaced on Kaldi's mel scale (1127·ln(1 + f/700)), over the
    FFT bins 0 … n_fft/2 − 1 (the Nyquist bin gets no weight); shape (n_mels, n_fft//2 + 1)."""
    def mel(hz: np.ndarray | float) -> np.ndarray:
        return 1127.0 * np.log1p(np.asarray(hz, dtype=np.float64) / 700.0)

    bins = mel(np.arange(n_fft // 2) * sample_rate / n_fft)
    low, high = mel(f_min), mel(f_max)
    step = (high - low) / (n_mels + 1)
    left = low + step * np.arange(n_mels)[:, None]
    centre, right = left + step, left + 2 * step
    rising, falling = (bins - left) / (centre - left), (right - bins) / (right - centre)
    weights = np.maximum(0.0, np.minimum(rising, falling))
    return np.pad(weights, ((0, 0), (0, 1))).astype(np.float32)


def log_mel(audio: np.ndarray) -> np.ndarray:
    """The network's input for 32-kHz mono audio (see the module docstring); shape (128, frames)."""
    samples = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
    emphasised = samples[1:] - PRE_EMPHASIS * samples[:-1]
    spectrum = torch.stft(emphasised, N_FFT, hop_length=HOP_LENGTH, win_length=WIN_LENGTH,
                          window=torch.hann_window(WIN_LENGTH, periodic=False), center=True, pad_mode="reflect",
                          return_complex=True)
    power = spectrum.real ** 2 + spectrum.imag ** 2  # (bins, frames)
    mel = torch.from_numpy(_filterbank()) @ power
    return ((torch.log(mel + 1e-5) + 4.5) / 5.0).numpy()


@lru_cache(maxsize=1)
def _filterbank() -> np.ndarray:
    return kaldi_mel_filterbank()


def _conv_norm(inputs: int, outputs: int, kernel: int, stride: int = 1, groups: int = 1,
               activation: type[nn.Module] | None = None) -> nn.Sequential:
    """Convolution without bias → batch norm → activation (none for a projection)."""
    layers: list[nn.Module] = [nn.Conv2d(inputs, outputs, kernel, stride, (kernel - 1) // 2, groups=groups, bias=False),
                               nn.BatchNorm2d(outputs, eps=_BN_EPSILON)]
    if activation is not None:
        layers.append(activation())
    return nn.Sequential(*layers)


class _ChannelGate(nn.Module):
    """One squeeze-and-excitation gate over channels: mean over frequency and time → fc → ReLU
    → fc → sigmoid, multiplied onto the input."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        squeezed = scaled_channels(channels // 4)
        self.fc1, self.fc2 = nn.Linear(channels, squeezed), nn.Linear(squeezed, channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = torch.sigmoid(self.fc2(torch.relu(self.fc1(x.mean(dim=(2, 3))))))
        return x * gate[:, :, None, None]


class _SqueezeExcitation(nn.Module):
    """The reference's container of concurrent gates; mn04_as has one, over channels."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conc_se_layers = nn.ModuleList([_ChannelGate(channels)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conc_se_layers[0](x)


class _InvertedResidual(nn.Module):
    def __init__(self, inputs: int, kernel: int, expanded: int, outputs: int, gated: bool, hard_swish: bool,
                 stride: int) -> None:
        super().__init__()
        activation = nn.Hardswish if hard_swish else nn.ReLU
        layers: list[nn.Module] = []
        if expanded != inputs:
            layers.append(_conv_norm(inputs, expanded, 1, activation=activation))
        layers.append(_conv_norm(expanded, expanded, kernel, stride, groups=expanded, activation=activation))
        if gated:
            layers.append(_SqueezeExcitation(expanded))
        layers.append(_conv_norm(expanded, outputs, 1))
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and inputs == outputs

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.block(x)
        return out + x if self.residual else out


class MobileNetAudio(nn.Module):
    """The mn04_as network; ``forward`` takes log-mel batches (batch, 1, 128, frames) and gives
    the class logits (batch, 527) and the embeddings (batch, 384)."""

    def __init__(self, n_classes: int = 527, width: float = WIDTH) -> None:
        super().__init__()
        def scaled(channels: int) -> int:
            return scaled_channels(channels * width)

        blocks = [_InvertedResidual(scaled(i), k, scaled(e), scaled(o), gated, hard, stride)
                  for i, k, e, o, gated, hard, stride in _BLOCKS]
        last = scaled(_BLOCKS[-1][3])
        self.features = nn.Sequential(_conv_norm(1, scaled(16), 3, 2, activation=nn.Hardswish), *blocks,
                                      _conv_norm(last, 6 * last, 1, activation=nn.Hardswish))
        hidden = scaled(1280)
        self.classifier = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(6 * last, hidden),
                                        nn.Hardswish(), nn.Dropout(0.2), nn.Linear(hidden, n_classes))

    def forward(self, log_mel_batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        maps = self.features(log_mel_batch)
        return self.classifier(maps), maps.mean(dim=(2, 3))

    def forward_blocks(self, log_mel_batch: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The class logits and the embedding pooled from every block: the mean over frequency
        and time of each inverted residual block's output, then the last layer's (batch, 888)."""
        pooled, maps = [], log_mel_batch
        for index, layer in enumerate(self.features):
            maps = layer(maps)
            if 0 < index:  # the stem's 16 channels carry little more than the log-mel itself
                pooled.append(maps.mean(dim=(2, 3)))
        return self.classifier(maps), torch.cat(pooled, dim=1)


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@lru_cache(maxsize=2)
def _state(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise WeightsError(f"EfficientAT weights not found: {path}")
    found = file_sha256(path)
    if path == WEIGHTS_FILE and found != WEIGHTS_SHA256:
        raise WeightsError(f"{path}: SHA-256 {found}, expected {WEIGHTS_SHA256}: the file is damaged; "
                           "reinstall songscape")
    return torch.load(path, map_location="cpu", weights_only=True)


def class_names() -> list[str]:
    """The 527 AudioSet class names, in the order of the network's outputs."""
    return LABELS_FILE.read_text(encoding="utf-8").splitlines()


@dataclass(frozen=True)
class ClipPredictions:
    """Class probabilities (clips, 527) and embeddings (clips, 384) of a batch of clips."""

    probabilities: np.ndarray
    embeddings: np.ndarray


class EfficientAT:
    """The packaged mn04_as (or weights of the same network given by path) on ``device``; with
    ``all_blocks``, its embedding is pooled from every block as well as the last layer."""

    def __init__(self, weights: Path | None = None, device: str = "cpu", all_blocks: bool = False) -> None:
        self.device = torch.device(device)
        self.all_blocks = all_blocks
        self.class_names = class_names()
        self.net = MobileNetAudio(len(self.class_names))
        self.net.load_state_dict(_state(Path(weights) if weights else WEIGHTS_FILE))
        self.net = self.net.eval().to(self.device)

    def predict(self, clips: list[np.ndarray]) -> ClipPredictions:
        """Probabilities and embeddings of 32-kHz mono clips (each its own length)."""
        found = [self.predict_log_mel(log_mel(clip)[None]) for clip in clips]
        return ClipPredictions(np.concatenate([f.probabilities for f in found]),
                               np.concatenate([f.embeddings for f in found]))

    def predict_log_mel(self, log_mels: np.ndarray) -> ClipPredictions:
        """Probabilities and embeddings of clips given as their `log_mel` (clips, 128, frames)."""
        with torch.inference_mode():
            batch = torch.from_numpy(np.ascontiguousarray(log_mels, dtype=np.float32))[:, None].to(self.device)
            logits, embeddings = self.net.forward_blocks(batch) if self.all_blocks else self.net(batch)
            return ClipPredictions(torch.sigmoid(logits).cpu().numpy(), embeddings.cpu().numpy())
