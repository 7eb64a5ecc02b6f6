"""The benchmark page: an A4 layout of the embedded photos, AM-screened at the ruling asked for."""

from __future__ import annotations

import pytest

from deep_halftoning.evaluation.page import A4_600DPI, make_page
from deep_halftoning.inference import analyse


def test_the_page_is_an_a4_am_print_at_its_ruling():
    page = make_page(0.15, lpi=85.0)
    assert page.shape == (round(A4_600DPI[0] * 0.15), round(A4_600DPI[1] * 0.15), 3)
    analysis = analyse(page)
    assert analysis.kind == "am"
    assert analysis.screens[0].period == pytest.approx(600.0 / 85.0, rel=0.03)
