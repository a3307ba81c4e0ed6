"""Clustering algorithms (one registry) and evaluation metrics."""
