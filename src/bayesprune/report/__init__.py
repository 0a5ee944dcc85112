"""Figures and the Markdown report."""
