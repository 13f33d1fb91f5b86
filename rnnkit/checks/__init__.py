"""Diagnostic checks used by the notebooks' test cells, one module per notebook.

Each check compares a student's function with rnnkit's reference on inputs built to
expose one mistake at a time, and fails with a message that names the mistake.
"""
