"""Horizon Radar: the base (radar.core), the scoring and alerts stages, and the app (radar.app)."""
