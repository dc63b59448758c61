"""Qubit connectivity of the simulated devices: which qubits are coupled, and where they sit.

A :class:`Topology` is undirected: it says which pairs of qubits share a coupler. Whether a
two-qubit gate runs in one direction (``ecr``) or both (``cx``, ``cz``) is decided when the
device's configuration is built. Coordinates are ``[x, y]`` grid positions for drawing
coupling maps; they are what the configuration's ``coords`` key carries.

The layouts are the public shapes of superconducting processors: a 5-qubit "T", a 7-qubit "H",
the 27-qubit heavy-hex lattice, and the row-and-bridge heavy-hex lattices of 127 and 156 qubits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "Topology",
    "h_shape_7",
    "heavy_hex_27",
    "heavy_hex_127",
    "heavy_hex_156",
    "t_shape_5",
]


@dataclass(frozen=True)
class Topology:
    """Which qubits of a device are coupled, and where each qubit is drawn.

    Parameters
    ----------
    num_qubits
        Number of physical qubits.
    edges
        Coupled pairs ``(a, b)`` with ``a < b``, sorted, each pair once.
    coords
        One ``(x, y)`` grid position per qubit, for drawing.
    layout
        A short human description ("T-shape", "heavy-hex", ...).
    """

    num_qubits: int
    edges: tuple[tuple[int, int], ...]
    coords: tuple[tuple[int, int], ...]
    layout: str

    def __post_init__(self) -> None:
        if len(self.coords) != self.num_qubits:
            raise ValueError(
                f"{self.layout}: {len(self.coords)} coordinates for {self.num_qubits} qubits"
            )
        for a, b in self.edges:
            if not (0 <= a < b < self.num_qubits):
                raise ValueError(f"{self.layout}: edge ({a}, {b}) is not an ordered qubit pair")


def _topology(
    num_qubits: int,
    pairs: Sequence[tuple[int, int]],
    coords: Sequence[tuple[int, int]],
    layout: str,
) -> Topology:
    edges = sorted({(min(a, b), max(a, b)) for a, b in pairs})
    return Topology(num_qubits, tuple(edges), tuple(coords), layout)


def t_shape_5() -> Topology:
    """Five qubits in a "T": 0-1-2 across, 1-3-4 down (the small Falcon layout)."""
    return _topology(
        5,
        [(0, 1), (1, 2), (1, 3), (3, 4)],
        [(0, 0), (1, 0), (2, 0), (1, 1), (1, 2)],
        "T-shape",
    )


def h_shape_7() -> Topology:
    """Seven qubits in an "H": 0-1-2 and 4-5-6 joined through 1-3-5."""
    return _topology(
        7,
        [(0, 1), (1, 2), (1, 3), (3, 5), (4, 5), (5, 6)],
        [(0, 0), (1, 0), (2, 0), (1, 1), (0, 2), (1, 2), (2, 2)],
        "H-shape",
    )


# The 27-qubit heavy-hex lattice: two hexagon rows sharing a middle line.
_HEAVY_HEX_27_EDGES = [
    (0, 1), (1, 2), (1, 4), (2, 3), (3, 5), (4, 7), (5, 8), (6, 7), (7, 10), (8, 9),
    (8, 11), (10, 12), (11, 14), (12, 13), (12, 15), (13, 14), (14, 16), (15, 18),
    (16, 19), (17, 18), (18, 21), (19, 20), (19, 22), (21, 23), (22, 25), (23, 24),
    (24, 25), (25, 26),
]  # fmt: skip
_HEAVY_HEX_27_COORDS = [
    (0, 1), (1, 1), (1, 2), (1, 3), (2, 1), (2, 3), (3, 0), (3, 1), (3, 3), (3, 4),
    (4, 1), (4, 3), (5, 1), (5, 2), (5, 3), (6, 1), (6, 3), (7, 0), (7, 1), (7, 3),
    (7, 4), (8, 1), (8, 3), (9, 1), (9, 2), (9, 3), (10, 3),
]  # fmt: skip


def heavy_hex_27() -> Topology:
    """The 27-qubit heavy-hex lattice (28 couplers)."""
    return _topology(27, _HEAVY_HEX_27_EDGES, _HEAVY_HEX_27_COORDS, "heavy-hex")


def _row_heavy_hex(
    rows: Sequence[range],
    bridge_columns: Sequence[Sequence[int]],
    layout: str,
) -> Topology:
    """Build a heavy-hex lattice of long qubit rows joined by bridge qubits.

    Qubits are numbered row by row: a long row (left to right), then the bridge qubits below
    it (left to right), then the next long row. ``rows[r]`` holds the columns occupied by long
    row ``r``; ``bridge_columns[r]`` the columns where a bridge joins rows ``r`` and ``r + 1``.
    """
    pairs: list[tuple[int, int]] = []
    coords: list[tuple[int, int]] = []
    row_start: list[int] = []
    next_qubit = 0
    for r, columns in enumerate(rows):
        row_start.append(next_qubit)
        for column in columns:
            coords.append((column, 2 * r))
            if column != columns.start:
                pairs.append((next_qubit - 1, next_qubit))
            next_qubit += 1
        if r < len(bridge_columns):
            below_start = next_qubit + len(bridge_columns[r])
            for column in bridge_columns[r]:
                above = row_start[r] + (column - columns.start)
                below = below_start + (column - rows[r + 1].start)
                coords.append((column, 2 * r + 1))
                pairs.extend([(above, next_qubit), (next_qubit, below)])
                next_qubit += 1
    return _topology(next_qubit, pairs, coords, layout)


def heavy_hex_127() -> Topology:
    """The 127-qubit heavy-hex lattice: 7 rows (14, 15 x 5, 14 qubits) and 6 bridge rows."""
    rows = [range(0, 14)] + [range(0, 15)] * 5 + [range(1, 15)]
    bridges = [(0, 4, 8, 12) if r % 2 == 0 else (2, 6, 10, 14) for r in range(6)]
    return _row_heavy_hex(rows, bridges, "heavy-hex")


def heavy_hex_156() -> Topology:
    """The 156-qubit heavy-hex lattice: 8 rows of 16 qubits joined by 7 bridge rows of 4."""
    rows = [range(0, 16)] * 8
    bridges = [(3, 7, 11, 15) if r % 2 == 0 else (1, 5, 9, 13) for r in range(7)]
    return _row_heavy_hex(rows, bridges, "heavy-hex")
