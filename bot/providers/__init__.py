"""Image providers behind :class:`bot.core.ports.Provider`.

``registry.py`` is the one list of vendors (name, local or cloud, settings model, factory); each vendor
is a module (``openai.py``) or a package when it has helpers (``comfyui/``, ``bedrock/``, ``gemini/``);
``builtin/`` is the offline renderer; ``_http/`` holds the HTTP mechanics several vendors share (the
client, error mapping, answer caps, downloads, polling, backend pools, shared wire formats).
Settings models (``settings.py``, a package's ``settings.py``) are light: ``bot.settings`` imports them
at start, while a vendor's HTTP code is imported only when that vendor is used.
"""
