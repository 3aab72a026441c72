"""EaselSteps: a model-free ComfyUI node for Easel's opt-in real-server tests (deploy/comfyui-cpu-setup.sh
copies this file to ComfyUI's custom_nodes/).

It passes its IMAGE through after ``steps`` steps of ``seconds`` each; every step reports progress with a
small JPEG preview (as a sampler does), can be interrupted between steps, and with ``fail_at`` > 0 raises
at that step (an ``execution_error``). ``seed`` is ignored but is part of ComfyUI's cache key, so a new
seed makes the node run again. The ComfyUI fake (tests/fakes/providers/comfyui_nodes.py) knows the same
node with the same inputs and ranges.
"""

import time

import comfy.model_management
import comfy.utils
from PIL import Image


class EaselSteps:
    @classmethod
    def INPUT_TYPES(cls):
        return {
            "required": {
                "image": ("IMAGE",),
                "steps": ("INT", {"default": 4, "min": 1, "max": 1000}),
            },
            "optional": {
                "seconds": ("FLOAT", {"default": 0.0, "min": 0.0, "max": 60.0, "step": 0.01}),
                "fail_at": ("INT", {"default": 0, "min": 0, "max": 1000}),
                "seed": ("INT", {"default": 0, "min": 0, "max": 0xFFFFFFFFFFFFFFFF}),
            },
        }

    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "run"
    CATEGORY = "easel/testing"

    def run(self, image, steps, seconds=0.0, fail_at=0, seed=0):
        bar = comfy.utils.ProgressBar(steps)
        for step in range(1, steps + 1):
            time.sleep(seconds)
            comfy.model_management.throw_exception_if_processing_interrupted()
            if step == fail_at:
                raise RuntimeError(f"EaselSteps failed at step {step} as asked")
            preview = Image.new("RGB", (8, 8), (step * 50 % 256, 0, 0))
            bar.update_absolute(step, steps, ("JPEG", preview, 64))
        return (image,)


NODE_CLASS_MAPPINGS = {"EaselSteps": EaselSteps}
NODE_DISPLAY_NAME_MAPPINGS = {"EaselSteps": "Easel test steps"}
