"""``comfyui``: a ComfyUI server (``provider``), its workflow templates and placeholders (``workflow``)
and the websocket events that report progress (``events``)."""
