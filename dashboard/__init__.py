"""Horizon Radar: dashboard stage."""
