"""The scoring stage: topic series in, signals, stages, rings and backtests out."""
