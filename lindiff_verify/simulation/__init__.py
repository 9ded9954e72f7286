"""Simulation: Monte Carlo engines (sampler trajectories, Wishart draws), array-API generic."""
