"""Backend configuration dicts in the IBM ``QasmBackendConfiguration`` JSON format.

The configuration is what ``GET /backends/{name}/configuration`` serves: gate set, coupling map,
limits (``max_shots``, ``max_experiments``), timing (``dt``, ``timing_constraints``,
``rep_delay_range``) and descriptive keys (``processor_type``, ``online_date``). The official
client builds its transpiler ``Target`` from it together with the properties.
"""

from __future__ import annotations

from typing import Any

from .profiles import CONTROL_FLOW, ProcessorProfile
from .topologies import Topology

__all__ = [
    "IDEAL_SIMULATOR_BASIS",
    "MAX_EXPERIMENTS",
    "MAX_SHOTS",
    "device_configuration",
    "ideal_simulator_configuration",
]

MAX_SHOTS = 100_000
MAX_EXPERIMENTS = 300

# OpenQASM 2 definitions of the native gates, as the configuration's ``gates`` list carries them.
_QASM_DEFS: dict[str, tuple[list[str], str | None]] = {
    "id": ([], "gate id q { U(0, 0, 0) q; }"),
    "rz": (["theta"], "gate rz(theta) q { U(0, 0, theta) q; }"),
    "sx": ([], "gate sx q { U(pi/2, 3*pi/2, pi/2) q; }"),
    "x": ([], "gate x q { U(pi, 0, pi) q; }"),
    "cx": ([], "gate cx q0, q1 { CX q0, q1; }"),
    "cz": ([], "gate cz q0, q1 { U(pi/2, 0, pi) q1; CX q0, q1; U(pi/2, 0, pi) q1; }"),
    "ecr": ([], None),
    "reset": ([], None),
    "measure": ([], None),
}

#: Gates the ideal simulator runs natively (all of them standard qiskit gates qiskit-aer knows).
IDEAL_SIMULATOR_BASIS = (
    "ccx", "cp", "crx", "cry", "crz", "cswap", "csx", "cu", "cx", "cy", "cz", "ecr", "h", "id",
    "iswap", "p", "r", "rx", "rxx", "ry", "ryy", "rz", "rzx", "rzz", "s", "sdg", "swap", "sx",
    "sxdg", "t", "tdg", "u", "u1", "u2", "u3", "x", "y", "z",
)  # fmt: skip

_SUPPORTED_FEATURES = ["qobj", "qasm3", "dynamic_circuits", "parameters"]


def _gate_config(name: str, coupling_map: list[list[int]] | None) -> dict[str, Any]:
    parameters, qasm_def = _QASM_DEFS.get(name, ([], None))
    entry: dict[str, Any] = {"name": name, "parameters": parameters, "qasm_def": qasm_def}
    if coupling_map is not None:
        entry["coupling_map"] = coupling_map
    return entry


def device_configuration(
    name: str,
    topology: Topology,
    profile: ProcessorProfile,
    properties: dict[str, Any],
    description: str,
) -> dict[str, Any]:
    """Return the configuration dict of a simulated hardware device.

    The directed coupling map is read from the two-qubit gate entries of ``properties``, so the
    configuration and the calibration always agree on which directions exist.
    """
    n = topology.num_qubits
    two_qubit = profile.two_qubit_gate
    directed = sorted(
        (entry["qubits"][0], entry["qubits"][1])
        for entry in properties["gates"]
        if entry["gate"] == two_qubit
    )
    coupling_map = [[a, b] for a, b in directed]
    single = [[q] for q in range(n)]
    basis_gates = sorted([two_qubit, "id", "rz", "sx", "x"])
    gates = [_gate_config(g, single) for g in ("id", "rz", "sx", "x")]
    gates.append(_gate_config(two_qubit, coupling_map))
    gates += [_gate_config("reset", single), _gate_config("measure", single)]
    processor_type = {"family": profile.family, "revision": profile.revision}
    return {
        "backend_name": name,
        "backend_version": properties["backend_version"],
        "n_qubits": n,
        "basis_gates": basis_gates,
        "gates": gates,
        "local": False,
        "simulator": False,
        "conditional": False,
        "open_pulse": False,
        "memory": True,
        "max_shots": MAX_SHOTS,
        "max_experiments": MAX_EXPERIMENTS,
        "coupling_map": coupling_map,
        "dynamic_reprate_enabled": True,
        "supported_instructions": [
            *basis_gates,
            "delay",
            "measure",
            "reset",
            *CONTROL_FLOW,
        ],
        "supported_features": list(_SUPPORTED_FEATURES),
        "rep_delay_range": list(profile.rep_delay_range_us),
        "default_rep_delay": profile.default_rep_delay_us,
        "meas_levels": [2],
        "meas_map": [list(range(n))],
        "n_registers": 1,
        "credits_required": True,
        "online_date": profile.online_date,
        "description": description,
        "sample_name": f"family: {profile.family}, revision: {profile.revision}",
        "dt": profile.dt_ns,
        "dtm": profile.dt_ns,
        "processor_type": processor_type,
        "timing_constraints": dict(profile.timing_constraints),
        "coords": [list(xy) for xy in topology.coords],
        "quantum_volume": profile.quantum_volume,
        "clops_h": profile.clops_h,
        "multi_meas_enabled": True,
        "measure_esp_enabled": False,
        "parallel_compilation": True,
        "allow_q_object": True,
        "acquisition_latency": [],
        "conditional_latency": [],
    }


def ideal_simulator_configuration(
    name: str,
    num_qubits: int,
    description: str,
    *,
    online_date: str = "2025-01-01T00:00:00+00:00",
    backend_version: str = "1.0.0",
) -> dict[str, Any]:
    """Return the configuration dict of an ideal, all-to-all simulator.

    There is no coupling map (``null``) and no per-qubit gate restriction, so every gate of
    :data:`IDEAL_SIMULATOR_BASIS` acts on any qubits; the official client builds a ``Target``
    whose instructions are global.
    """
    basis_gates = list(IDEAL_SIMULATOR_BASIS)
    return {
        "backend_name": name,
        "backend_version": backend_version,
        "n_qubits": num_qubits,
        "basis_gates": basis_gates,
        "gates": [_gate_config(g, None) for g in basis_gates],
        "local": False,
        "simulator": True,
        "conditional": True,
        "open_pulse": False,
        "memory": True,
        "max_shots": MAX_SHOTS,
        "max_experiments": MAX_EXPERIMENTS,
        "coupling_map": None,
        "dynamic_reprate_enabled": False,
        "supported_instructions": [*basis_gates, "delay", "measure", "reset", *CONTROL_FLOW],
        "supported_features": list(_SUPPORTED_FEATURES),
        "meas_levels": [2],
        "meas_map": [list(range(num_qubits))],
        "n_registers": 1,
        "credits_required": False,
        "online_date": online_date,
        "description": description,
        "processor_type": {"family": "ideal simulator", "revision": "1"},
    }
