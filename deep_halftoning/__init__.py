"""Deep Halftoning."""
