"""Easel: chat messages in, generated images out."""

__version__ = "0.1.0"
