"""The lead-journey simulator's parts: model tables, profiles, day-by-day journeys, exact ground truth.

The public entry point is ``training.simulation.simulator``.
"""
