"""Paired per-photo differences between columns of two evaluations (``results.json`` of ``evaluate.py``).

Each side is ``RESULTS.json:COLUMN``; both evaluations must cover the same photos (by name, in the same order). Prints,
for every halftone row both hold, the mean of ``A - B`` over the photos with its 95 % interval:

    python experiments/paired.py outputs/eval-new/results.json:new outputs/study/evaluation/results.json:model
"""

from __future__ import annotations

import argparse

from deep_halftoning.evaluation.paired import paired_table
from deep_halftoning.evaluation.scores import METRICS


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="RESULTS.json:COLUMN")
    parser.add_argument("b", help="RESULTS.json:COLUMN")
    parser.add_argument("--metric", choices=list(METRICS), default="psnr")
    args = parser.parse_args(argv)
    try:
        print(paired_table(args.a, args.b, args.metric))
    except ValueError as err:
        raise SystemExit(str(err)) from None
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
