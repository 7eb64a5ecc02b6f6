"""Evaluation of descreening, as a library that ``experiments/`` drives from the command line.

``rows`` (the halftone rows), ``photos``, ``methods`` (models and classical baselines as columns), ``harness``
(halftone, descreen, score), ``scores`` and ``statistics`` (per-photo values, t-intervals, paired differences),
``tables``, ``results`` (``results.md`` / ``results.json``), ``paired`` (two evaluations compared photo by photo),
``figures``, ``tone_ceiling`` (oracle bounds of each row), ``detection`` (the screen-detection grid) and
``renderers`` (independent halftone renderers the rows and the grid use). PSNR and SSIM are
:mod:`deep_halftoning.models.metrics`.
"""
