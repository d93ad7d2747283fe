# The ComfyUI runner implements the worker's PromptRunner port (structurally: integrations do not import services).
from mcp_storyboard.integrations.comfyui import ComfyUIPromptRunner
from mcp_storyboard.services.generation.ports import PromptRunner

runner: PromptRunner = ComfyUIPromptRunner()
