"""runtime layer of jupyter-qrt (see DESIGN.md)."""
