"""leadripe training: data contract, simulator, import, snapshots, features, models, evaluation."""

__version__ = "0.1.0"
