"""Training: the Hydra entry point, its callbacks and loggers, publishing of checkpoints, the stage graph.

``python -m deep_halftoning.training.train experiment=coarse`` (or ``deep-halftoning train ...``) trains one
stage; the stages themselves (one LightningModule each) are in :mod:`deep_halftoning.stages`.
"""
