"""ipywidgets explorers that the notebooks display, one module per explorer."""
