"""A screen analysis put into words: one line for a batch's progress, a full one for its report, the
lines of ``detect``.

Each function takes the analysis as :meth:`ScreenAnalysis.to_dict` gives it (or as a summary file holds it).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

#: The words for an analysis that found no AM screen, by kind.
KIND_WORDS = {
    "dispersed": "dispersed dots (error diffusion or dither)",
    "continuous": "continuous tone (no halftone pattern found)",
}


def _ruling(screen: Mapping, brief: bool) -> str:
    """A screen's ruling in lpi where the resolution is known, else its period (brief) or frequency."""
    if screen.get("lpi") is not None:
        return f"{screen['lpi']:.0f} lpi"
    return f"period {screen['period']:.1f} px" if brief else f"{screen['frequency']:.4f} cycles/px"


def describe_analysis(analysis: Mapping | None, brief: bool = False) -> str:
    """What an analysis found, in words: ``brief`` for one line of progress, else each screen's period too."""
    if not analysis:
        return "not analysed (--no-auto)"
    kind, dpi = analysis.get("kind"), analysis.get("dpi")
    screens = analysis.get("screens") or []
    if kind == "am" and brief:
        rulings = ", ".join(f"{_ruling(s, brief)} at {s['angle']:.0f} deg" for s in screens)
        return f"AM screen ({rulings}" + (f"; {dpi:g} dpi)" if dpi else ")")
    if kind == "am":
        rulings = "; ".join(f"{_ruling(s, brief)} (period {s['period']:.2f} px) at {s['angle']:.1f}°" for s in screens)
        where = f"; scan at {dpi:g} dpi" if dpi else ""
        return f"AM screen, {len(screens)} screen{'s' if len(screens) != 1 else ''}: {rulings}{where}"
    return KIND_WORDS.get(kind, f"unknown kind {kind!r}")


def measures(analysis: Mapping | None) -> str:
    """The spectral figures behind an analysis (high-frequency share, peak ratio), or ``""``."""
    if not analysis:
        return ""
    share, peak = analysis.get("high_frequency_share"), analysis.get("peak_ratio")
    parts = []
    if isinstance(share, (int, float)):
        parts.append(f"high-frequency share {share:.2f}")
    if isinstance(peak, (int, float)) and math.isfinite(peak):
        parts.append(f"peak ratio {peak:.0f}")
    return ", ".join(parts)


def detect_lines(source: str, analysis: Mapping) -> list[str]:
    """What ``detect`` prints: the kind and its figures, each screen, and a hint on the resolution (the
    analysis's ``dpi_hint``, see :meth:`ScreenAnalysis.resolution_hint`)."""
    share, peak, dpi = analysis["high_frequency_share"], analysis["peak_ratio"], analysis["dpi"]
    lines = [f"{source}: {analysis['kind']} (high-frequency share {share:.2f}, peak ratio {peak:.0f})"]
    for i, s in enumerate(analysis["screens"], 1):
        ruling = f", {s['lpi']:.0f} lpi at {dpi:g} dpi" if s["lpi"] is not None else ""
        lines.append(
            f"  screen {i}: {s['frequency']:.4f} cycles/px (period {s['period']:.2f} px){ruling}, "
            f"angle {s['angle']:.1f} deg, strength {s['strength']:.2f}"
        )
    if analysis["screens"] and dpi is None:
        lines.append("  hint: the file gives no resolution; --dpi DPI turns the periods into rulings (lpi)")
    elif analysis.get("dpi_hint"):
        lines.append(f"  hint: {analysis['dpi_hint']}")
    return lines
