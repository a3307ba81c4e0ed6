"""songscape."""
