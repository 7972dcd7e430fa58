"""One way for every benchmark to state a figure, so ``python -m bench`` can gather them into one table.

A benchmark prints its own lines for a person, and calls :func:`figure` for
each number it measures against a reference and a goal. Run alone, that adds
nothing to the output; under the runner (``CALIBER_BENCH_FIGURES`` set) it
also writes one ``figure: {json}`` line the runner reads back.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass

__all__ = ["ENV", "MARK", "Figure", "figure"]

ENV = "CALIBER_BENCH_FIGURES"
MARK = "figure: "


@dataclass(frozen=True)
class Figure:
    """A measured value, the reference measured in the same run, their ratio, and the goal."""

    bench: str
    name: str
    value: float
    unit: str
    reference: str = ""
    ratio: float | None = None
    goal: str = ""
    met: bool | None = None
    """Whether the goal is met (None: a figure without a goal)."""


def figure(
    bench: str,
    name: str,
    value: float,
    unit: str,
    *,
    reference: str = "",
    ratio: float | None = None,
    goal: str = "",
    met: bool | None = None,
) -> Figure:
    """State one figure (and hand it to the runner when one is listening)."""
    found = Figure(bench, name, value, unit, reference, ratio, goal, met)
    if os.environ.get(ENV):
        print(MARK + json.dumps(asdict(found)), flush=True)
    return found
