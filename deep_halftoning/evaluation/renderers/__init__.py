"""Halftone renderers written independently of :mod:`deep_halftoning.halftone`'s screens, so that an evaluation
measures more than the training family: :mod:`.xgen_am` (a cross-generator AM print and scan) and
:mod:`.diamond` (the second AM renderer of the screen-detection grid)."""
