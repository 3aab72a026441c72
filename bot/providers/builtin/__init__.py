"""``builtin``: the keyless offline renderer (``provider``), its scene drawing (``render``, ``terrain``,
``draw``, ``palette``), its simple real edits (``edits``) and how its images are encoded (``encoding``)."""
