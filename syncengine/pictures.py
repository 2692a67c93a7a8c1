"""Server-rendered pictures (no script, no CDN): numbers → shapes the templates draw as
inline SVG. Every shape carries its label and count as text, and patterns as well as
colours tell segments apart, so nothing depends on colour alone."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

BAR_WIDTH = 100.0  # percent of the SVG's width; the SVG scales to its container
PATTERNS = ("solid", "hatch", "dots", "cross")


@dataclass(frozen=True)
class Segment:
    key: str
    label: str
    count: int
    x: float  # percent
    width: float  # percent
    pattern: str

    @property
    def title(self) -> str:
        return f"{self.label}: {self.count}"


def action_bar(counts: Sequence[tuple[str, str, int]]) -> list[Segment]:
    """One stacked bar of a session's actions: (key, label, count) → segments."""
    total = sum(n for _, _, n in counts)
    if not total:
        return []
    out, x = [], 0.0
    for i, (key, label, n) in enumerate(counts):
        width = BAR_WIDTH * n / total
        out.append(Segment(key, label, n, round(x, 3), round(width, 3), PATTERNS[i % 4]))
        x += width
    return out
