"""Numpy-only synthesis of the demo corpus's music: four styles that differ in tempo, rhythm,
timbre and harmony, not only in pitch.

| style | tempo (BPM) | rhythm | timbre | harmony |
|---|---|---|---|---|
| ambient | 60–90 | none, slow swells | soft pads, bells, air | major 7th / sus chords |
| rock | 100–150 | kick 1+3, snare 2+4, 8th hats | distorted saw guitar, bass | power chords (no third) |
| folk | 75–110 | 6/8 hand drum | plucked strings, drone, flute | pentatonic melody over a drone |
| electronic | 118–135 | four on the floor, off-beat hats | square bass, bright arpeggio | minor chords, arpeggiated |

Each track draws its key, tempo, mix levels and which parts play from its own seeded generator;
some tracks borrow one part from another style and all carry background noise, so styles overlap
the way real genres do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

import numpy as np

STYLES: tuple[str, ...] = ("ambient", "rock", "folk", "electronic")

Renderer = Callable[[np.random.Generator, int, int], np.ndarray]


def _midi_to_hz(note: float) -> float:
    return 440.0 * 2.0 ** ((note - 69.0) / 12.0)


def _envelope(n: int, sr: int, attack_s: float, decay_s: float) -> np.ndarray:
    """Linear attack then exponential decay with time constant ``decay_s``."""
    t = np.arange(n) / sr
    attack = np.clip(t / max(attack_s, 1e-4), 0.0, 1.0)
    return attack * np.exp(-np.maximum(t - attack_s, 0.0) / decay_s)


_WAVETABLE_SIZE = 4096


@lru_cache(maxsize=512)
def _harmonic_tone(
    freq: float, n: int, sr: int, amplitudes: tuple[float, ...],
    harmonic_decay_s: float | None = None,
) -> np.ndarray:
    """Sum of harmonics ``k * freq`` with the given amplitudes, dropping those above Nyquist.

    Without decay the tone is read from a one-period wavetable (one lookup per sample instead
    of one sine per harmonic); with ``harmonic_decay_s`` the k-th harmonic decays k times
    faster (a plucked string). Cached, since a track repeats its notes; treat as read-only.
    """
    k = np.arange(1, len(amplitudes) + 1)
    keep = k * freq < sr / 2
    k, weights = k[keep], np.asarray(amplitudes)[keep]
    t = np.arange(n) / sr
    if harmonic_decay_s is not None:
        partials = np.sin(2 * np.pi * freq * np.outer(k, t)) * np.exp(-np.outer(k, t) / harmonic_decay_s)
        return weights @ partials
    cycle = np.arange(_WAVETABLE_SIZE) / _WAVETABLE_SIZE
    table = weights @ np.sin(2 * np.pi * np.outer(k, cycle))
    index = (np.arange(n) * (freq * _WAVETABLE_SIZE / sr)).astype(np.int64) % _WAVETABLE_SIZE
    return table[index]


def _add(buffer: np.ndarray, sound: np.ndarray, start: int, gain: float = 1.0) -> None:
    """Mix ``sound`` into ``buffer`` from sample ``start``, cutting at the end."""
    if start >= len(buffer):
        return
    end = min(len(buffer), start + len(sound))
    buffer[start:end] += gain * sound[: end - start]


def _kick(sr: int, rng: np.random.Generator, punch: float = 1.0) -> np.ndarray:
    n = int(0.35 * sr)
    t = np.arange(n) / sr
    f0, f1 = rng.uniform(110, 170), rng.uniform(40, 55)
    freq = f1 + (f0 - f1) * np.exp(-t / 0.04)
    phase = 2 * np.pi * np.cumsum(freq) / sr
    return np.sin(phase) * np.exp(-t / (0.12 * punch))


def _noise_hit(sr: int, rng: np.random.Generator, length_s: float, decay_s: float,
               brightness: float) -> np.ndarray:
    """Noise burst; ``brightness`` in [0, 1] mixes white noise with its first difference."""
    n = int(length_s * sr)
    noise = rng.standard_normal(n + 1)
    coloured = (1 - brightness) * noise[1:] + brightness * np.diff(noise)
    return coloured * _envelope(n, sr, 0.001, decay_s) * 0.5


def _snare(sr: int, rng: np.random.Generator) -> np.ndarray:
    noise = _noise_hit(sr, rng, 0.25, 0.06, 0.5)
    n = len(noise)
    body = np.sin(2 * np.pi * rng.uniform(170, 220) * np.arange(n) / sr)
    return noise + 0.5 * body * _envelope(n, sr, 0.001, 0.04)


def _hand_drum(sr: int, rng: np.random.Generator, low: bool) -> np.ndarray:
    """Tabla/dhol-like stroke: a pitched membrane whose pitch bends."""
    n = int(0.4 * sr)
    t = np.arange(n) / sr
    if low:
        freq = rng.uniform(70, 100) * (1 + 0.6 * np.exp(-t / 0.08))
        decay = 0.18
    else:
        freq = rng.uniform(280, 420) * (1 - 0.05 * np.exp(-t / 0.05))
        decay = 0.07
    phase = 2 * np.pi * np.cumsum(freq) / sr
    tone = np.sin(phase) + 0.3 * np.sin(2.01 * phase)
    return tone * _envelope(n, sr, 0.002, decay)


def _saw_amplitudes(n_harmonics: int) -> tuple[float, ...]:
    return tuple(1.0 / k for k in range(1, n_harmonics + 1))


def _square_amplitudes(n_harmonics: int) -> tuple[float, ...]:
    return tuple(1.0 / k if k % 2 == 1 else 0.0 for k in range(1, n_harmonics + 1))


def _scale_chord(root: int, intervals: tuple[int, ...]) -> list[float]:
    return [_midi_to_hz(root + i) for i in intervals]


def _ambient(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    beat = 60.0 / rng.uniform(60, 90)
    root = int(rng.integers(48, 60))
    chord_shapes = [(0, 4, 7, 11), (5, 9, 12, 16), (0, 5, 7, 14), (-3, 0, 4, 7)]
    chord_len = int(8 * beat * sr)
    pad_amps = tuple(1.0 / k**2 for k in range(1, 7))
    for index, start in enumerate(range(0, n, chord_len)):
        shape = chord_shapes[(index + int(rng.integers(0, 4))) % len(chord_shapes)]
        length = chord_len + int(sr)
        swell = _envelope(length, sr, rng.uniform(0.8, 1.6), 4.0)
        for freq in _scale_chord(root, shape):
            for detune in (0.997, 1.003):
                _add(out, _harmonic_tone(freq * detune, length, sr, pad_amps) * swell, start, 0.12)
    for _ in range(int(rng.integers(2, 7))):
        bell_freq = _midi_to_hz(root + 24 + int(rng.choice([0, 4, 7, 11, 14])))
        length = int(2.5 * sr)
        bell = _harmonic_tone(bell_freq, length, sr, (1.0, 0.0, 0.3, 0.0, 0.1))
        _add(out, bell * _envelope(length, sr, 0.005, 0.8), int(rng.integers(0, n)), 0.15)
    tremolo = 1 + 0.25 * np.sin(2 * np.pi * rng.uniform(0.1, 0.3) * np.arange(n) / sr)
    running = np.cumsum(rng.standard_normal(n + 64))
    air = (running[64:] - running[:-64]) / 64  # moving-average low-passed noise
    return out * tremolo + 0.2 * air


def _rock(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    beat = int(60.0 / rng.uniform(100, 150) * sr)
    eighth = beat // 2
    root = int(rng.integers(40, 52))
    progression = [0, 7, 9, 5] if rng.random() < 0.5 else [0, 5, 7, 5]
    kick, snare = _kick(sr, rng), _snare(sr, rng)
    hat = _noise_hit(sr, rng, 0.08, 0.015, 0.95)
    drive = rng.uniform(3, 8)
    guitar_amps = _saw_amplitudes(20)
    has_hats = rng.random() < 0.85
    for step, start in enumerate(range(0, n, eighth)):
        beat_in_bar = (step // 2) % 4
        if step % 2 == 0 and beat_in_bar in (0, 2):
            _add(out, kick, start, 0.9)
        if step % 2 == 0 and beat_in_bar in (1, 3):
            _add(out, snare, start, 0.7)
        if step % 2 == 1 and rng.random() < 0.2:
            _add(out, kick, start, 0.6)
        if has_hats:
            _add(out, hat, start, 0.3)
        chord_root = root + progression[(step // 16) % 4]
        chug = np.zeros(eighth)
        for freq in _scale_chord(chord_root, (0, 7, 12)):
            chug += _harmonic_tone(freq, eighth, sr, guitar_amps)
        chug = np.tanh(drive * chug * _envelope(eighth, sr, 0.003, 0.25)) * 0.25
        _add(out, chug, start)
        bass = _harmonic_tone(_midi_to_hz(chord_root - 12), eighth, sr, (1.0, 0.4, 0.2))
        _add(out, bass * _envelope(eighth, sr, 0.005, 0.2), start, 0.35)
    return out


def _folk(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    pulse = int(60.0 / rng.uniform(75, 110) / 3 * sr)  # 6/8: three pulses per beat
    root = int(rng.integers(50, 62))
    pentatonic = np.array([0, 2, 4, 7, 9, 12, 14, 16])
    drum_low, drum_high = _hand_drum(sr, rng, low=True), _hand_drum(sr, rng, low=False)
    drum_pattern = [(0, "low"), (2, "high"), (3, "high"), (5, "low")]
    pluck_amps = _saw_amplitudes(14)
    degree = int(rng.integers(0, 5))
    for step, start in enumerate(range(0, n, pulse)):
        position = step % 6
        for hit_position, kind in drum_pattern:
            if position == hit_position:
                _add(out, drum_low if kind == "low" else drum_high, start, 0.6)
        if rng.random() < 0.6:
            degree = int(np.clip(degree + rng.integers(-2, 3), 0, len(pentatonic) - 1))
            length = int(0.8 * sr)
            pluck = _harmonic_tone(_midi_to_hz(root + 12 + pentatonic[degree]), length, sr,
                                   pluck_amps, harmonic_decay_s=0.9)
            _add(out, pluck * _envelope(length, sr, 0.002, 0.35), start, 0.35)
    drone_amps = (1.0, 0.5, 0.5, 0.35, 0.3, 0.2, 0.2, 0.15)
    for freq in (_midi_to_hz(root - 12), _midi_to_hz(root - 5)):
        _add(out, _harmonic_tone(freq, n, sr, drone_amps), 0, 0.08)
    if rng.random() < 0.5:
        _add(out, _flute_phrase(rng, n, sr, root + 24, pentatonic), 0, 0.25)
    return out


def _flute_phrase(rng: np.random.Generator, n: int, sr: int, base: int,
                  scale: np.ndarray) -> np.ndarray:
    """A breathy bansuri-like line: near-sine tones with vibrato and breath noise."""
    out = np.zeros(n)
    start = int(rng.integers(0, sr))
    while start < n:
        length = int(rng.uniform(0.4, 1.2) * sr)
        t = np.arange(length) / sr
        freq = _midi_to_hz(base + int(rng.choice(scale)))
        vibrato = 1 + 0.006 * np.sin(2 * np.pi * 5.5 * t)
        phase = 2 * np.pi * np.cumsum(freq * vibrato) / sr
        tone = np.sin(phase) + 0.1 * np.sin(2 * phase) + 0.05 * rng.standard_normal(length)
        _add(out, tone * _envelope(length, sr, 0.08, 0.6), start)
        start += length + int(rng.uniform(0.0, 0.4) * sr)
    return out


def _electronic(rng: np.random.Generator, n: int, sr: int) -> np.ndarray:
    out = np.zeros(n)
    beat = int(60.0 / rng.uniform(118, 135) * sr)
    sixteenth = beat // 4
    root = int(rng.integers(45, 57))
    progression = [0, 8, 3, 10]
    kick = _kick(sr, rng, punch=1.4)
    hat = _noise_hit(sr, rng, 0.12, 0.04, 0.9)
    clap = _noise_hit(sr, rng, 0.15, 0.03, 0.6)
    bass_amps, arp_amps = _square_amplitudes(9), _saw_amplitudes(24)
    has_clap = rng.random() < 0.7
    for step, start in enumerate(range(0, n, sixteenth)):
        in_beat = step % 4
        beat_index = (step // 4) % 4
        chord_root = root + progression[(step // 32) % 4]
        if in_beat == 0:
            _add(out, kick, start, 1.0)
            if has_clap and beat_index in (1, 3):
                _add(out, clap, start, 0.5)
        if in_beat == 2:
            _add(out, hat, start, 0.35)
            bass = _harmonic_tone(_midi_to_hz(chord_root - 12), 2 * sixteenth, sr, bass_amps)
            _add(out, bass * _envelope(2 * sixteenth, sr, 0.003, 0.12), start, 0.3)
        arp_note = chord_root + 12 + (0, 3, 7, 12, 15, 12, 7, 3)[step % 8]
        arp = _harmonic_tone(_midi_to_hz(arp_note), sixteenth, sr, arp_amps)
        _add(out, arp * _envelope(sixteenth, sr, 0.002, 0.05), start, 0.12)
    return out


RENDERERS: dict[str, Renderer] = {
    "ambient": _ambient,
    "rock": _rock,
    "folk": _folk,
    "electronic": _electronic,
}


def _spectral_tilt(audio: np.ndarray, sr: int, db_per_octave: float) -> np.ndarray:
    """Brighten (positive) or darken (negative) by a constant slope around 1 kHz, like the
    equalisation differences between productions."""
    size = 1 << (len(audio) - 1).bit_length()  # a power of two keeps the FFT fast
    spectrum = np.fft.rfft(audio, n=size)
    freqs = np.maximum(np.fft.rfftfreq(size, 1.0 / sr), 20.0)
    gain_db = db_per_octave * np.log2(freqs / 1000.0)
    return np.fft.irfft(spectrum * 10 ** (gain_db / 20), n=size)[: len(audio)]


def render_track(style: str, seconds: float, sr: int, rng: np.random.Generator,
                 crossover_probability: float = 0.25) -> np.ndarray:
    """Render one track of ``style`` as float32 mono in [-1, 1].

    With probability ``crossover_probability`` a quieter layer of another style is mixed in;
    every track gets a random equalisation tilt and background noise at a random level.
    """
    n = int(seconds * sr)
    audio = RENDERERS[style](rng, n, sr)
    audio /= np.max(np.abs(audio)) + 1e-9
    if rng.random() < crossover_probability:
        other = str(rng.choice([s for s in STYLES if s != style]))
        layer = RENDERERS[other](rng, n, sr)
        audio += rng.uniform(0.2, 0.45) * layer / (np.max(np.abs(layer)) + 1e-9)
    audio = _spectral_tilt(audio, sr, rng.uniform(-3.0, 3.0))
    audio /= np.max(np.abs(audio)) + 1e-9
    audio += rng.uniform(0.005, 0.05) * rng.standard_normal(n)
    audio *= rng.uniform(0.4, 0.95) / (np.max(np.abs(audio)) + 1e-9)
    return audio.astype(np.float32)
