"""Horizon Radar: nlp stage."""
