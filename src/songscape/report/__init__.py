"""Figures and the HTML report, built from a run's saved artifacts (never retraining)."""
