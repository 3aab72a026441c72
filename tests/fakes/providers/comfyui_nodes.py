"""What the ComfyUI fake knows about nodes, and its /prompt validation (after ComfyUI 0.3.64's
``execution.py`` ``validate_prompt`` / ``validate_inputs`` and ``nodes.py``).

Node classes with their inputs (a link type in capitals, or a widget kind), outputs and ranges, the
model-free ones a CPU server runs (``EmptyImage``, ``ImageInvert``, ``ImageBlur``, ``ImageScale``,
``ImageScaleBy``, ``LoadImage``, ``SaveImage``, ``PreviewImage``), the upscale-model pair of
``comfy_extras/nodes_upscale_model.py`` (``UpscaleModelLoader``: ``model_name`` one of
``models/upscale_models``; ``ImageUpscaleWithModel``: ``upscale_model``, ``image``) and Easel's test
node ``EaselSteps`` (``deploy/comfyui_easel_nodes.py``: steps with progress and previews,
interruptible, optionally failing at a step).

Validation is per output node, as upstream: an output whose nodes (it and everything it links from)
have errors is dropped; when at least one output is good the prompt is queued (HTTP 200 with the dropped
ones in ``node_errors``), otherwise 400 ``{"error": {type, message, details, extra_info}, "node_errors":
{id: {"errors", "dependent_outputs", "class_type"}}}``. ``node_errors`` is always an object.
"""

from __future__ import annotations

from typing import Any

CHECKPOINTS = ("sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors")
SAMPLERS = ("euler", "euler_ancestral", "dpmpp_2m", "dpmpp_sde", "ddim", "uni_pc")
SCHEDULERS = ("normal", "karras", "exponential", "simple", "sgm_uniform")
UPSCALE_MODELS = {"RealESRGAN_x4plus.pth": 4, "RealESRGAN_x2plus.pth": 2}
"""What the fake's ``models/upscale_models`` holds by default, with each model's fixed scale."""
UPSCALE_METHODS = ("nearest-exact", "bilinear", "area", "bicubic", "lanczos")
"""``ImageScale.upscale_methods`` / ``ImageScaleBy.upscale_methods`` in upstream's nodes.py."""
CROP_METHODS = ("disabled", "center")
MAX_SEED = 0xFFFFFFFFFFFFFFFF
MAX_RESOLUTION = 16384
WIDGETS = (
    "INT", "FLOAT", "STRING", "CKPT", "SAMPLER", "SCHEDULER", "FILE", "UPSCALE_METHOD", "CROP", "UPSCALER",
)  # fmt: skip

# class -> (input name -> kind, output types); kind: a link type, or one of WIDGETS
NODES: dict[str, tuple[dict[str, str], tuple[str, ...]]] = {
    "CheckpointLoaderSimple": ({"ckpt_name": "CKPT"}, ("MODEL", "CLIP", "VAE")),
    "CLIPTextEncode": ({"text": "STRING", "clip": "CLIP"}, ("CONDITIONING",)),
    "EmptyLatentImage": ({"width": "INT", "height": "INT", "batch_size": "INT"}, ("LATENT",)),
    "KSampler": (
        {
            "model": "MODEL",
            "seed": "INT",
            "steps": "INT",
            "cfg": "FLOAT",
            "sampler_name": "SAMPLER",
            "scheduler": "SCHEDULER",
            "positive": "CONDITIONING",
            "negative": "CONDITIONING",
            "latent_image": "LATENT",
            "denoise": "FLOAT",
        },
        ("LATENT",),
    ),
    "VAEDecode": ({"samples": "LATENT", "vae": "VAE"}, ("IMAGE",)),
    "VAEEncode": ({"pixels": "IMAGE", "vae": "VAE"}, ("LATENT",)),
    "EmptyImage": ({"width": "INT", "height": "INT", "batch_size": "INT", "color": "INT"}, ("IMAGE",)),
    "ImageInvert": ({"image": "IMAGE"}, ("IMAGE",)),
    "ImageBlur": ({"image": "IMAGE", "blur_radius": "INT", "sigma": "FLOAT"}, ("IMAGE",)),
    "ImageScale": (
        {
            "image": "IMAGE",
            "upscale_method": "UPSCALE_METHOD",
            "width": "INT",
            "height": "INT",
            "crop": "CROP",
        },
        ("IMAGE",),
    ),
    "ImageScaleBy": ({"image": "IMAGE", "upscale_method": "UPSCALE_METHOD", "scale_by": "FLOAT"}, ("IMAGE",)),
    "UpscaleModelLoader": ({"model_name": "UPSCALER"}, ("UPSCALE_MODEL",)),
    "ImageUpscaleWithModel": ({"upscale_model": "UPSCALE_MODEL", "image": "IMAGE"}, ("IMAGE",)),
    "EaselSteps": (
        {"image": "IMAGE", "steps": "INT", "seconds": "FLOAT", "fail_at": "INT", "seed": "INT"},
        ("IMAGE",),
    ),
    "LoadImage": ({"image": "FILE"}, ("IMAGE", "MASK")),
    "SaveImage": ({"images": "IMAGE", "filename_prefix": "STRING"}, ()),
    "PreviewImage": ({"images": "IMAGE"}, ()),
}
OUTPUT_NODES = ("SaveImage", "PreviewImage")
STEPPING = ("KSampler", "EaselSteps")
"""Nodes that report progress step by step (and can be interrupted between steps)."""
OPTIONAL = {("EaselSteps", "fail_at"), ("EaselSteps", "seconds"), ("EaselSteps", "seed")}
RANGES = {
    ("KSampler", "seed"): (0, MAX_SEED),
    ("KSampler", "steps"): (1, 10000),
    ("KSampler", "cfg"): (0.0, 100.0),
    ("KSampler", "denoise"): (0.0, 1.0),
    ("EmptyLatentImage", "width"): (16, MAX_RESOLUTION),
    ("EmptyLatentImage", "height"): (16, MAX_RESOLUTION),
    ("EmptyLatentImage", "batch_size"): (1, 4096),
    ("EmptyImage", "width"): (1, MAX_RESOLUTION),
    ("EmptyImage", "height"): (1, MAX_RESOLUTION),
    ("EmptyImage", "batch_size"): (1, 4096),
    ("EmptyImage", "color"): (0, 0xFFFFFF),
    ("ImageBlur", "blur_radius"): (1, 31),
    ("ImageBlur", "sigma"): (0.1, 10.0),
    ("ImageScale", "width"): (0, MAX_RESOLUTION),
    ("ImageScale", "height"): (0, MAX_RESOLUTION),
    ("ImageScaleBy", "scale_by"): (0.01, 8.0),
    ("EaselSteps", "steps"): (1, 1000),
    ("EaselSteps", "seconds"): (0.0, 60.0),
    ("EaselSteps", "fail_at"): (0, 1000),
    ("EaselSteps", "seed"): (0, MAX_SEED),
}


def reason(type_: str, message: str, details: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "message": message, "details": details, "extra_info": extra}


def ancestors(prompt: dict[str, Any], node_id: str) -> list[str]:
    """``node_id`` and every node it links from, each after the nodes it needs."""
    done: list[str] = []

    def visit(nid: str) -> None:
        if nid in done or nid not in prompt:
            return
        inputs = prompt[nid].get("inputs")
        for value in (inputs if isinstance(inputs, dict) else {}).values():
            if is_link(value):
                visit(str(value[0]))
        done.append(nid)

    visit(node_id)
    return done


def is_link(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 2
        and isinstance(value[0], str)
        and isinstance(value[1], int)
    )


def validate(
    prompt: dict[str, Any],
    *,
    checkpoints: tuple[str, ...],
    uploads: dict[str, bytes],
    targets: list[str] | None = None,
    upscalers: tuple[str, ...] = tuple(UPSCALE_MODELS),
) -> tuple[bool, dict[str, Any] | None, list[str], dict[str, Any]]:
    """``(valid, error, outputs to execute, node_errors)`` as upstream's ``validate_prompt``."""
    outputs: list[str] = []
    for node_id, node in prompt.items():
        if not isinstance(node, dict) or "class_type" not in node:
            message = "Cannot execute because a node is missing the class_type property."
            return False, reason("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
        if node["class_type"] not in NODES:
            message = f"Cannot execute because node {node['class_type']} does not exist."
            return False, reason("invalid_prompt", message, f"Node ID '#{node_id}'"), [], {}
        if node["class_type"] in OUTPUT_NODES and (targets is None or node_id in targets):
            outputs.append(node_id)
    if not outputs:
        return False, reason("prompt_no_outputs", "Prompt has no outputs", ""), [], {}
    choices = {
        "CKPT": checkpoints,
        "SAMPLER": SAMPLERS,
        "SCHEDULER": SCHEDULERS,
        "UPSCALE_METHOD": UPSCALE_METHODS,
        "CROP": CROP_METHODS,
        "UPSCALER": upscalers,
    }
    checked: dict[str, list[dict[str, Any]]] = {}
    good: list[str] = []
    node_errors: dict[str, Any] = {}
    failures: list[str] = []
    for output in outputs:
        bad = False
        for node_id in ancestors(prompt, output):
            if node_id not in checked:
                checked[node_id] = _check_node(prompt, prompt[node_id], choices, uploads)
            reasons = checked[node_id]
            if not reasons:
                continue
            bad = True
            entry = node_errors.setdefault(
                node_id,
                {"errors": reasons, "dependent_outputs": [], "class_type": prompt[node_id]["class_type"]},
            )
            entry["dependent_outputs"].append(output)
            failures += [f"{r['message']}: {r['details']}" for r in reasons]
        if not bad:
            good.append(output)
    if not good:
        details = "\n".join(failures)
        error = reason("prompt_outputs_failed_validation", "Prompt outputs failed validation", details)
        return False, error, [], node_errors
    return True, None, good, node_errors


def _check_node(
    prompt: dict[str, Any],
    node: dict[str, Any],
    choices: dict[str, tuple[str, ...]],
    uploads: dict[str, bytes],
) -> list[dict[str, Any]]:
    class_type = node["class_type"]
    inputs = node.get("inputs")
    if not isinstance(inputs, dict):
        inputs = {}
    found: list[dict[str, Any]] = []
    for name, kind in NODES[class_type][0].items():
        if name not in inputs:
            if (class_type, name) not in OPTIONAL:
                found.append(
                    reason("required_input_missing", "Required input is missing", name, input_name=name)
                )
            continue
        value = inputs[name]
        if kind not in WIDGETS or isinstance(value, list):
            found += _check_link(prompt, name, kind, value)
        else:
            found += _check_value(class_type, name, kind, value, choices, uploads)
    return found


def _check_value(
    class_type: str,
    name: str,
    kind: str,
    value: Any,
    choices: dict[str, tuple[str, ...]],
    uploads: dict[str, bytes],
) -> list[dict[str, Any]]:
    if kind in ("INT", "FLOAT"):
        try:
            number: float = int(value) if kind == "INT" else float(value)
        except (TypeError, ValueError):
            message = f"Failed to convert an input value to a {kind} value"
            return [
                reason("invalid_input_type", message, f"{name}, {value}, invalid literal", input_name=name)
            ]
        low, high = RANGES.get((class_type, name), (float("-inf"), float("inf")))
        if number < low:
            message = f"Value {number} smaller than min of {low}"
            return [reason("value_smaller_than_min", message, name, input_name=name)]
        if number > high:
            message = f"Value {number} bigger than max of {high}"
            return [reason("value_bigger_than_max", message, name, input_name=name)]
        return []
    if kind == "STRING":
        if isinstance(value, str):
            return []
        message = "Failed to convert an input value to a STRING value"
        return [reason("invalid_input_type", message, name, input_name=name)]
    allowed = choices.get(kind)
    if allowed is not None and value not in allowed:
        details = f"{name}: '{value}' not in {list(allowed)}"
        return [reason("value_not_in_list", "Value not in list", details, input_name=name)]
    if kind == "FILE" and value not in uploads:
        details = f"{name} - Invalid image file: {value}"
        return [
            reason("custom_validation_failed", "Custom validation failed for node", details, input_name=name)
        ]
    return []


def _check_link(prompt: dict[str, Any], name: str, kind: str, value: Any) -> list[dict[str, Any]]:
    if not is_link(value):
        message = f"Failed to convert an input value to a {kind} value"
        return [reason("invalid_input_type", message, name, input_name=name)]
    source = prompt.get(str(value[0]))
    if source is None:
        message = "Bad linked input, must be a length-2 list of [node_id, slot_index]"
        return [
            reason("bad_linked_input", message, f"{name}: node {value[0]} does not exist", input_name=name)
        ]
    outputs = NODES[source["class_type"]][1]
    received = outputs[value[1]] if 0 <= value[1] < len(outputs) else "?"
    if received != kind:
        details = f"{name}, received_type({received}) mismatch input_type({kind})"
        return [
            reason(
                "return_type_mismatch", "Return type mismatch between linked nodes", details, input_name=name
            )
        ]
    return []


def object_info(
    node_class: str, checkpoints: tuple[str, ...], upscalers: tuple[str, ...] = tuple(UPSCALE_MODELS)
) -> dict[str, Any]:
    """``GET /object_info/{class}``'s entry for a known class (only the parts clients read)."""
    inputs, outputs = NODES[node_class]
    required: dict[str, Any] = {}
    lists = {
        "SAMPLER": SAMPLERS,
        "SCHEDULER": SCHEDULERS,
        "UPSCALE_METHOD": UPSCALE_METHODS,
        "CROP": CROP_METHODS,
        "UPSCALER": upscalers,
    }
    for name, kind in inputs.items():
        if kind == "CKPT":
            required[name] = [list(checkpoints), {"tooltip": "The name of the checkpoint (model) to load."}]
        elif kind in lists:
            required[name] = [list(lists[kind]), {}]
        else:
            low, high = RANGES.get((node_class, name), (None, None))
            required[name] = [
                kind if kind != "FILE" else "COMBO",
                {"min": low, "max": high} if low is not None else {},
            ]
    return {
        "input": {"required": required},
        "input_order": {"required": list(required)},
        "output": list(outputs),
        "output_is_list": [False] * len(outputs),
        "output_name": list(outputs),
        "name": node_class,
        "display_name": node_class,
        "description": "",
        "python_module": "nodes",
        "category": "image" if node_class in OUTPUT_NODES else "sd",
        "output_node": node_class in OUTPUT_NODES,
    }
