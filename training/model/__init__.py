"""Model stage: the readiness model, baselines, split, threshold, evaluation, reasons, serving stats."""
