"""Audio front-end: decoding, features from one STFT, extraction over a collection."""
