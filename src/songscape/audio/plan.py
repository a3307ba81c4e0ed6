"""The audio stage's plan: what a run computes from each file, built once from its config and
handed down (the analysis settings, the excerpt, the pretrained network if any, the number
of worker processes), so that no stage converts the config again."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING

from songscape.audio.decode import ExcerptSpec
from songscape.audio.features import SpectralSettings
from songscape.audio.track import NetworkSpec
from songscape.threads import choose_device
from songscape.workspace import content_key

if TYPE_CHECKING:
    from songscape.config import AudioConfig

FEATURES_VERSION = 2  # in every audio key: 2 added the segment statistics


def network_spec(audio: AudioConfig, device: str = "auto") -> NetworkSpec:
    """The pretrained network of a run's audio config, on ``device`` (``auto``: CUDA when available)."""
    weights = str(audio.network_weights) if audio.network_weights else None
    chosen = choose_device(device)
    return NetworkSpec(audio.network, weights, chosen, in_worker=chosen == "cpu")


@dataclass(frozen=True)
class AudioPlan:
    """What the audio stage computes from each file: statistics and the log-mel patch with
    ``settings``, from ``excerpt``, and the pretrained ``network``'s results when it is given;
    on ``workers`` processes (None: one per core)."""

    settings: SpectralSettings = SpectralSettings()
    excerpt: ExcerptSpec = ExcerptSpec()
    network: NetworkSpec | None = None
    workers: int | None = None

    @classmethod
    def from_config(cls, audio: AudioConfig, device: str = "auto", with_network: bool = False) -> AudioPlan:
        """The plan of a run's audio config; the network (on ``device``) only ``with_network``."""
        settings = SpectralSettings(audio.sample_rate, audio.n_fft, audio.hop_length, audio.n_mels,
                                    audio.n_mfcc, audio.patch_frames)
        return cls(settings, ExcerptSpec(audio.excerpt, audio.excerpt_seconds, audio.crops),
                   network_spec(audio, device) if with_network else None, audio.workers)

    @property
    def settings_key(self) -> str:
        """Key of the statistics and mel patches computed with these settings from this excerpt."""
        return content_key("audio", FEATURES_VERSION, asdict(self.settings), asdict(self.excerpt))
