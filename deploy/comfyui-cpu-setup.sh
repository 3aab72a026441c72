#!/usr/bin/env bash
# Set up a real ComfyUI from source on a CPU-only machine, for Easel's opt-in tests
# (tests/real/test_comfyui_real.py; see docs/providers.md, "ComfyUI").
#
#   deploy/comfyui-cpu-setup.sh [DIR]        # default DIR: ./.comfyui ; then it starts the server
#   EASEL_TEST_COMFYUI_URL=http://127.0.0.1:8188 pytest -q tests/real/test_comfyui_real.py
#
# No model is downloaded: the tests use model-free workflows (EmptyImage, LoadImage, ImageInvert,
# ImageBlur, SaveImage) and the EaselSteps node from deploy/comfyui_easel_nodes.py (steps with
# progress and previews, interrupts, failures). Needs git, Python 3.10+ and network access to
# github.com, pypi.org and download.pytorch.org.
set -euo pipefail

DIR="${1:-.comfyui}"
REF="${COMFYUI_REF:-v0.3.64}"          # the version the issue was checked against
PORT="${COMFYUI_PORT:-8188}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -d "$DIR/.git" ]; then
    git clone --depth 1 --branch "$REF" https://github.com/comfyanonymous/ComfyUI.git "$DIR"
fi
cd "$DIR"
python3 -m venv .venv
. .venv/bin/activate
pip install --upgrade pip
# The CPU build of torch (the default index would fetch the CUDA build, several GB).
pip install torch torchvision torchaudio --index-url https://download.pytorch.org/whl/cpu
pip install -r requirements.txt
cp "$HERE/comfyui_easel_nodes.py" custom_nodes/easel_nodes.py

echo "ComfyUI $REF on http://127.0.0.1:$PORT (Ctrl-C stops it)."
echo "Then: EASEL_TEST_COMFYUI_URL=http://127.0.0.1:$PORT pytest -q tests/real/test_comfyui_real.py"
exec python main.py --cpu --listen 127.0.0.1 --port "$PORT" --disable-auto-launch
