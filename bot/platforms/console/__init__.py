"""The terminal chat (``easel chat``)."""
