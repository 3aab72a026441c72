"""What the HTTP providers share, written once: the client (``client``), httpx outcomes → provider
errors (``errors``), answer caps (``limits``), result downloads (``media``), settings and request
helpers (``common``), submit-then-poll (``polling``), pools of identical servers (``backends``), and the
wire formats or model rules two or more vendors speak (``images_api``, ``gpt_image``, ``multimodal``,
``stable_image``, ``local_servers``, ``cloud``)."""
