"""Convert musicnn's TensorFlow 1 checkpoints to `.npz` weights, and make the parity fixtures.

Runs in a throwaway virtual environment with TensorFlow; songscape itself never needs it:

    python3.11 -m venv /tmp/tfvenv
    /tmp/tfvenv/bin/pip install --no-deps musicnn==0.1.0
    /tmp/tfvenv/bin/pip install tensorflow-cpu tf-keras librosa
    TF_USE_LEGACY_KERAS=1 /tmp/tfvenv/bin/python tools/convert_musicnn.py \
        --out src/songscape/audio/weights --fixtures tests/data/musicnn

`--out` gets one `<model>.npz` per model (MTT_musicnn, MSD_musicnn): every trained variable of
the checkpoint under its TensorFlow name (optimizer slots left out), plus `tags`.

`--fixtures` gets small `.npy` files made once with the original TensorFlow graph
(`musicnn.models.define_model`, inference mode): a synthetic test signal (`audio.npy`, 16 kHz),
librosa's mel power spectrogram of it with musicnn's settings (`mel_power.npy`), the log-mel
patches fed to the network (`patches.npy`) and, per model, its tag probabilities
(`<model>_tags.npy`) and penultimate features (`<model>_penultimate.npy`).

The original casts the mel power to float16 and computes `log10(10000·x + 1)` in float16;
float16 tops out at 65 504, so every bin with power above 6.55 (any loud passage) becomes inf.
Here (and in songscape) the product and the log are taken in float32 instead.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

MODELS = ("MTT_musicnn", "MSD_musicnn")
SAMPLE_RATE, N_FFT, HOP, N_MELS, PATCH_FRAMES = 16000, 512, 256, 96, 187


def _checkpoint_prefix(model: str) -> str:
    import musicnn

    return str(Path(musicnn.__file__).parent / model) + "/"  # the files are named ".index", ".data-…"


def convert(model: str, out_dir: Path) -> Path:
    """Write ``<out_dir>/<model>.npz`` from the packaged checkpoint."""
    import tensorflow as tf
    from musicnn import configuration

    reader = tf.compat.v1.train.NewCheckpointReader(_checkpoint_prefix(model))
    names = [name for name in reader.get_variable_to_shape_map()
             if "Adam" not in name and name not in ("beta1_power", "beta2_power")]
    weights = {name: reader.get_tensor(name).astype(np.float32) for name in sorted(names)}
    tags = configuration.MTT_LABELS if model.startswith("MTT") else configuration.MSD_LABELS
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{model}.npz"
    np.savez_compressed(path, tags=np.array(tags), **weights)
    return path


def test_signal(seconds: float = 7.0) -> np.ndarray:
    """A deterministic synthetic signal (chords, noise bursts, a loud passage): no recorded audio."""
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    signal = sum(np.sin(2 * np.pi * f * t) for f in (220.0, 277.2, 329.6)) * 0.2
    signal += 0.1 * rng.normal(size=len(t)) * (np.sin(2 * np.pi * 2 * t) > 0.5)
    signal[int(4.5 * SAMPLE_RATE):] *= 4.0  # loud: float16 mel power would overflow here
    return signal.astype(np.float32)


def fixtures(out_dir: Path) -> None:
    """The parity fixtures described in the module docstring."""
    import librosa
    import tensorflow as tf
    from musicnn import models

    tf.compat.v1.disable_eager_execution()
    audio = test_signal()
    power = librosa.feature.melspectrogram(y=audio, sr=SAMPLE_RATE, hop_length=HOP, n_fft=N_FFT,
                                           n_mels=N_MELS).T.astype(np.float32)
    log_mel = np.log10(10000 * power + 1).astype(np.float32)
    patches = np.stack([log_mel[start:start + PATCH_FRAMES]
                        for start in range(0, len(log_mel) - PATCH_FRAMES + 1, PATCH_FRAMES)])
    out_dir.mkdir(parents=True, exist_ok=True)
    np.save(out_dir / "audio.npy", audio)
    np.save(out_dir / "mel_power.npy", power)
    np.save(out_dir / "patches.npy", patches)
    overflowing = np.isinf(np.log10(10000 * power.astype(np.float16) + 1)).mean()
    print(f"float16 as in the original would make {overflowing:.0%} of the log-mel bins inf")
    for model in MODELS:
        tf.compat.v1.reset_default_graph()
        x = tf.compat.v1.placeholder(tf.float32, [None, PATCH_FRAMES, N_MELS])
        is_training = tf.compat.v1.placeholder(tf.bool)
        logits, *_, penultimate = models.define_model(x, is_training, model, 50)
        with tf.compat.v1.Session() as session:
            tf.compat.v1.train.Saver().restore(session, _checkpoint_prefix(model))
            tags, features = session.run([tf.nn.sigmoid(logits), penultimate],
                                         feed_dict={x: patches, is_training: False})
        np.save(out_dir / f"{model}_tags.npy", tags.astype(np.float32))
        np.save(out_dir / f"{model}_penultimate.npy", features.astype(np.float32))
        print(f"{model}: {len(patches)} patches, top tags of patch 0: {np.argsort(-tags[0])[:3]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="folder for <model>.npz")
    parser.add_argument("--fixtures", type=Path, help="folder for the parity fixtures")
    args = parser.parse_args()
    if args.out:
        for model in MODELS:
            path = convert(model, args.out)
            print(f"{path}: {path.stat().st_size / 1e6:.1f} MB")
    if args.fixtures:
        fixtures(args.fixtures)


if __name__ == "__main__":
    main()
