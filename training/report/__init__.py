"""Report stage: the marketing report (data, insights, plots, HTML template)."""
