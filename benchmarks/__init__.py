"""Benchmarks of jupyter-qrt side by side with qiskit-ibm-runtime. Run ``python -m benchmarks``."""
