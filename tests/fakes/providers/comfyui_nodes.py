"""What the ComfyUI fake knows about nodes, and its /prompt validation (after ComfyUI's execution.py).

Node classes with their inputs (a link type in capitals, or a widget kind) and outputs; ``validate``
answers like ComfyUI: ``{"error": {type, message, details, extra_info}, "node_errors": {id: {"errors",
"dependent_outputs", "class_type"}}}`` or None when the workflow may run.
"""

from __future__ import annotations

from typing import Any

CHECKPOINTS = ("sd_xl_base_1.0.safetensors", "v1-5-pruned-emaonly.safetensors")
SAMPLERS = ("euler", "euler_ancestral", "dpmpp_2m", "dpmpp_sde", "ddim", "uni_pc")
SCHEDULERS = ("normal", "karras", "exponential", "simple", "sgm_uniform")
MAX_SEED = 0xFFFFFFFFFFFFFFFF

# input name -> kind: a link type in capitals, or INT/FLOAT/STRING/CKPT/SAMPLER/SCHEDULER/FILE
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
    "LoadImage": ({"image": "FILE"}, ("IMAGE", "MASK")),
    "SaveImage": ({"images": "IMAGE", "filename_prefix": "STRING"}, ()),
    "PreviewImage": ({"images": "IMAGE"}, ()),
}
OUTPUT_NODES = ("SaveImage", "PreviewImage")
RANGES = {
    ("KSampler", "seed"): (0, MAX_SEED),
    ("KSampler", "steps"): (1, 10000),
    ("KSampler", "cfg"): (0.0, 100.0),
    ("KSampler", "denoise"): (0.0, 1.0),
    ("EmptyLatentImage", "width"): (16, 16384),
    ("EmptyLatentImage", "height"): (16, 16384),
    ("EmptyLatentImage", "batch_size"): (1, 4096),
}


def reason(type_: str, message: str, details: str, **extra: Any) -> dict[str, Any]:
    return {"type": type_, "message": message, "details": details, "extra_info": extra}


def validate(
    prompt: Any, *, checkpoints: tuple[str, ...], uploads: dict[str, bytes]
) -> dict[str, Any] | None:
    if not isinstance(prompt, dict):
        return {
            "error": reason("invalid_prompt", "Invalid prompt", "prompt is not an object"),
            "node_errors": {},
        }
    for node_id, node in prompt.items():
        class_type = node.get("class_type") if isinstance(node, dict) else None
        if class_type not in NODES:
            error = reason(
                "invalid_prompt",
                f"Cannot execute because node {class_type} does not exist.",
                f"Node ID '#{node_id}'",
            )
            return {"error": error, "node_errors": {}}
    outputs = [nid for nid, node in prompt.items() if node["class_type"] in OUTPUT_NODES]
    if not outputs:
        return {"error": reason("prompt_no_outputs", "Prompt has no outputs", ""), "node_errors": []}
    node_errors: dict[str, Any] = {}
    for node_id, node in prompt.items():
        reasons = _check_node(prompt, node, checkpoints, uploads)
        if reasons:
            node_errors[node_id] = {
                "errors": reasons,
                "dependent_outputs": outputs,
                "class_type": node["class_type"],
            }
    if not node_errors:
        return None
    details = "\n".join(f"{r['message']}: {r['details']}" for e in node_errors.values() for r in e["errors"])
    return {
        "error": reason("prompt_outputs_failed_validation", "Prompt outputs failed validation", details),
        "node_errors": node_errors,
    }


def _check_node(
    prompt: dict[str, Any], node: dict[str, Any], checkpoints: tuple[str, ...], uploads: dict[str, bytes]
) -> list[dict[str, Any]]:
    class_type = node["class_type"]
    inputs = node.get("inputs")
    if not isinstance(inputs, dict):
        inputs = {}
    found: list[dict[str, Any]] = []
    for name, kind in NODES[class_type][0].items():
        if name not in inputs:
            found.append(reason("required_input_missing", "Required input is missing", name, input_name=name))
            continue
        value = inputs[name]
        if kind.isupper() and kind not in (
            "INT",
            "FLOAT",
            "STRING",
            "CKPT",
            "SAMPLER",
            "SCHEDULER",
            "FILE",
        ):
            found += _check_link(prompt, name, kind, value)
            continue
        if isinstance(value, list):
            found += _check_link(prompt, name, kind, value)
            continue
        found += _check_value(class_type, name, kind, value, checkpoints, uploads)
    return found


def _check_value(
    class_type: str, name: str, kind: str, value: Any, checkpoints: tuple[str, ...], uploads: dict[str, bytes]
) -> list[dict[str, Any]]:
    if kind in ("INT", "FLOAT"):
        try:
            number: float = int(value) if kind == "INT" else float(value)
        except (TypeError, ValueError):
            return [
                reason(
                    "invalid_input_type",
                    f"Failed to convert an input value to a {kind} value",
                    f"{name}, {value}, invalid literal",
                    input_name=name,
                )
            ]
        low, high = RANGES.get((class_type, name), (float("-inf"), float("inf")))
        if number < low:
            return [
                reason(
                    "value_smaller_than_min",
                    f"Value {number} smaller than min of {low}",
                    f"{name}",
                    input_name=name,
                )
            ]
        if number > high:
            return [
                reason(
                    "value_bigger_than_max",
                    f"Value {number} bigger than max of {high}",
                    f"{name}",
                    input_name=name,
                )
            ]
        return []
    if kind == "STRING":
        return (
            []
            if isinstance(value, str)
            else [
                reason(
                    "invalid_input_type",
                    "Failed to convert an input value to a STRING value",
                    name,
                    input_name=name,
                )
            ]
        )
    allowed = {"CKPT": checkpoints, "SAMPLER": SAMPLERS, "SCHEDULER": SCHEDULERS}.get(kind)
    if allowed is not None and value not in allowed:
        return [
            reason(
                "value_not_in_list",
                "Value not in list",
                f"{name}: '{value}' not in {list(allowed)}",
                input_name=name,
            )
        ]
    if kind == "FILE" and value not in uploads:
        return [
            reason(
                "custom_validation_failed",
                "Custom validation failed for node",
                f"{name} - Invalid image file: {value}",
                input_name=name,
            )
        ]
    return []


def _check_link(prompt: dict[str, Any], name: str, kind: str, value: Any) -> list[dict[str, Any]]:
    if not (isinstance(value, list) and len(value) == 2 and isinstance(value[1], int)):
        return [
            reason(
                "invalid_input_type",
                f"Failed to convert an input value to a {kind} value",
                name,
                input_name=name,
            )
        ]
    source = prompt.get(str(value[0]))
    if source is None:
        return [
            reason(
                "bad_linked_input",
                "Bad linked input, must be a length-2 list of [string, int]",
                f"{name}: node {value[0]} does not exist",
                input_name=name,
            )
        ]
    outputs = NODES[source["class_type"]][1]
    received = outputs[value[1]] if 0 <= value[1] < len(outputs) else "?"
    if received != kind:
        return [
            reason(
                "return_type_mismatch",
                "Return type mismatch between linked nodes",
                f"{name}, received_type({received}) mismatch input_type({kind})",
                input_name=name,
            )
        ]
    return []
