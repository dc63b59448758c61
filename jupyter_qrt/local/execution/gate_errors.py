"""The error of one calibrated gate: thermal relaxation, then depolarizing, as an Aer mixture.

A gate's error is a probabilistic mixture of small circuits, of which qiskit-aer samples one per
gate and shot: per qubit of the gate identity, ``z`` or ``reset`` (relaxation over the gate's
length, from the qubit's T1/T2), then a Pauli on the gate's qubits (depolarizing, sized so that
the gate's average infidelity equals its calibrated ``gate_error``).

Why a mixture and never a Kraus channel: one Kraus instruction anywhere in a noise model makes
qiskit-aer (statevector and matrix product state methods) convert *every* error of the model to
canonical Kraus form with LAPACK ``zheevx``. On the clustered Choi eigenvalues of a depolarized
two-qubit error that eigensolver fails for some calibrations (21 ``cz`` pairs of qrt_gannet, one
``ecr`` pair of qrt_pelican), leaving the error empty ("QuantumError: Kraus is empty") or
crashing the process; and every gate then applies a 16-operator Kraus channel on every shot.
A mixture needs no conversion, and most shots draw the identity and apply nothing.

The circuits of the mixture depend only on the number of qubits and on whether the gate
relaxes, so they are built once (:func:`_template`) and each gate only gets its probabilities.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np
from qiskit.circuit import Instruction, Reset
from qiskit.circuit.library import IGate, XGate, YGate, ZGate
from qiskit_aer.noise import QuantumError

__all__ = ["coherence_ns", "gate_error"]

_Ops = list[tuple[Instruction, list[int]]]


def coherence_ns(t1_us: float, t2_us: float) -> tuple[float, float]:
    """Return ``(T1, T2)`` in ns for gate noise, from microseconds; ``inf`` when not calibrated.

    T2 is capped at T1. Physically T2 <= 2 * T1; with T2 <= T1 relaxation is a mixture of
    identity, ``z`` and ``reset``, so the model needs no Kraus channel (see the module
    docstring). Over a gate (tens to hundreds of ns against T1, T2 of ~100 us) the extra
    dephasing is below 1e-4 in fidelity, and the depolarizing part is sized from the relaxation
    actually modelled, so every gate keeps its calibrated error.
    """
    # Snapshots of real devices hold the odd zero, negative or T2 > 2 * T1 value.
    t1 = t1_us * 1e3 if t1_us > 0 else math.inf
    t2 = t2_us * 1e3 if t2_us > 0 else math.inf
    return t1, min(t2, t1)


def _relaxation_weights(t1: float, t2: float, length: float) -> np.ndarray:
    """Probabilities of identity, ``z`` and ``reset`` for relaxation over ``length`` ns."""
    reset = 1.0 - math.exp(-length / t1)
    # Amplitude damping plus at least as much dephasing (T2 <= T1) is a mixture: reset with
    # the decay probability, else a phase flip often enough that coherences end at
    # exp(-t / T1) * (1 - 2 * flip) = exp(-t / T2).
    flip = (1.0 - reset) * (1.0 - math.exp(-length * (1.0 / t2 - 1.0 / t1))) / 2.0
    return np.array([1.0 - reset - flip, flip, reset])


def _relaxation_fidelity(coherence: tuple[tuple[float, float], ...], length: float) -> float:
    """Average gate fidelity of the relaxation of all the gate's qubits over ``length`` ns."""
    # The relaxation of each qubit maps the Pauli basis diagonally except I -> Z (the decay to
    # the ground state): its Pauli transfer diagonal is (1, c, c, 1 - reset) with c the
    # coherence factor exp(-t / T2). The process fidelity of a tensor product is the product of
    # Tr(PTM) / 4 per qubit; average gate fidelity = (d F_pro + 1) / (d + 1).
    dim = 1 << len(coherence)
    process = 1.0
    for t1, t2 in coherence:
        decay = math.exp(-length / t1)
        process *= (1.0 + 2.0 * math.exp(-length / t2) + decay) / 4.0
    return (dim * process + 1.0) / (dim + 1.0)


def _pauli_ops(num_qubits: int) -> list[_Ops]:
    """Every Pauli on ``num_qubits`` qubits as single-qubit gates, the identity (no ops) first.

    Qubit 0 varies slowest, matching the Kronecker order of :func:`_pauli_weights`' caller.
    """
    letters: tuple[Instruction | None, ...] = (None, XGate(), YGate(), ZGate())
    terms: list[_Ops] = [[]]
    for qubit in range(num_qubits):
        terms = [ops + ([(g, [qubit])] if g is not None else []) for ops in terms for g in letters]
    return terms


@cache
def _template(num_qubits: int, relaxes: bool) -> QuantumError:
    """The circuits of every gate error of this shape, with placeholder probabilities.

    Term ``(r_0, ..., r_{n-1}, pauli)`` is: relaxation outcome ``r_q`` on qubit ``q``, then the
    Pauli; terms are in Kronecker order (qubit 0's relaxation outermost, the Pauli innermost),
    which :func:`gate_error` follows for the probabilities.
    """
    terms: list[_Ops] = [[]]
    if relaxes:
        for qubit in range(num_qubits):
            options: list[_Ops] = [[], [(ZGate(), [qubit])], [(Reset(), [qubit])]]
            terms = [ops + more for ops in terms for more in options]
    terms = [ops + pauli for ops in terms for pauli in _pauli_ops(num_qubits)]
    # The no-error term needs an instruction to be a circuit: an identity (Aer skips it).
    padded = [ops or [(IGate(), [0])] for ops in terms]
    share = 1.0 / len(padded)
    return QuantumError([(ops, share) for ops in padded])


def gate_error(
    coherence: tuple[tuple[float, float], ...], error: float, length: float
) -> QuantumError | None:
    """The error of one gate: relaxation over ``length`` ns, then depolarizing up to ``error``.

    Parameters
    ----------
    coherence
        ``(T1, T2)`` in ns of each qubit of the gate (from :func:`coherence_ns`), qubit 0 first.
    error
        The calibrated ``gate_error`` (average gate infidelity).
    length
        The gate's length in ns.

    Returns
    -------
    QuantumError or None
        ``None`` when the gate is ideal (no error, no relaxation).
    """
    num_qubits = len(coherence)
    dim = 2**num_qubits
    # A gate touching a qubit without T1/T2 gets depolarizing noise only.
    relaxes = length > 0 and not any(math.isinf(t1) for t1, _ in coherence)
    relax_fidelity = _relaxation_fidelity(coherence, length) if relaxes else 1.0
    relax_infidelity = 1.0 - relax_fidelity
    param = 0.0
    if error > relax_infidelity and dim * relax_fidelity > 1:
        # Average fidelity is linear in the channel: F(D o R) = (1 - p) F(R) + p / d.
        param = dim * (error - relax_infidelity) / (dim * relax_fidelity - 1)
        param = min(param, 4**num_qubits / (4**num_qubits - 1))
    elif relax_infidelity <= 0.0:
        return None
    probabilities = np.ones(1)
    if relaxes:
        for t1, t2 in coherence:
            probabilities = np.kron(probabilities, _relaxation_weights(t1, t2, length))
    # Depolarizing with parameter p: the identity keeps 1 - p (4^n - 1) / 4^n, every other
    # Pauli gets p / 4^n.
    paulis = np.full(4**num_qubits, param / 4**num_qubits)
    paulis[0] = 1.0 - param * (4**num_qubits - 1) / 4**num_qubits
    probabilities = np.clip(np.kron(probabilities, paulis), 0.0, None)
    return _CalibratedGateError(_template(num_qubits, relaxes), probabilities / probabilities.sum())


class _CalibratedGateError(QuantumError):  # type: ignore[misc]
    """A gate error: the shared circuits of a template with this gate's probabilities.

    Building each gate's ``QuantumError`` from scratch converts its ~150 circuits one by one
    (seconds for a 156-qubit device); sharing the template's circuits (never modified) costs
    nothing. qiskit-aer also checks every error it is given for being the identity; these
    errors are never ideal, so that check is skipped.
    """

    def __init__(self, template: QuantumError, probabilities: np.ndarray) -> None:
        super().__init__(template)  # the copy constructor: shares the circuits
        if len(probabilities) != len(self._circs):
            raise ValueError("one probability per circuit of the template is needed")
        self._probs = [float(p) for p in probabilities]

    def ideal(self) -> bool:
        return False
