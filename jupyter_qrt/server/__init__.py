"""server layer of jupyter-qrt (see DESIGN.md)."""
