"""Replications, executors, statistics, comparisons, sweeps and the regression check."""
