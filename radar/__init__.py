"""Horizon Radar: radar stage."""
