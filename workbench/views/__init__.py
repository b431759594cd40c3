"""Widget views: one class per app, built from ipywidgets, testable without a browser."""
