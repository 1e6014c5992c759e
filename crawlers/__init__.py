"""Horizon Radar: crawlers stage."""
