"""``builtin``: the keyless offline renderer (``provider``), its scene drawing (``render``, ``terrain``,
``draw``, ``palette``) and its simple real edits (``edits``)."""
