"""ComfyUI's real sampler and scheduler names (``comfy/samplers.py``: ``KSampler.SAMPLERS`` / ``SCHEDULERS``).

A preset is checked against these when it is written, so a stored preset never carries a name ComfyUI rejects
(the original app stored ``euler_a``; ComfyUI calls it ``euler_ancestral``). A server's own ``/object_info`` list
stays the authority at dispatch time: versions add names.
"""

from __future__ import annotations

import difflib
from typing import Annotated

from pydantic import AfterValidator, Field

SAMPLERS: tuple[str, ...] = (
    "euler", "euler_cfg_pp", "euler_ancestral", "euler_ancestral_cfg_pp", "heun", "heunpp2", "dpm_2",
    "dpm_2_ancestral", "lms", "dpm_fast", "dpm_adaptive", "dpmpp_2s_ancestral", "dpmpp_2s_ancestral_cfg_pp",
    "dpmpp_sde", "dpmpp_sde_gpu", "dpmpp_2m", "dpmpp_2m_cfg_pp", "dpmpp_2m_sde", "dpmpp_2m_sde_gpu",
    "dpmpp_2m_sde_heun", "dpmpp_2m_sde_heun_gpu", "dpmpp_3m_sde", "dpmpp_3m_sde_gpu", "ddpm", "lcm", "ipndm",
    "ipndm_v", "deis", "res_multistep", "res_multistep_cfg_pp", "res_multistep_ancestral",
    "res_multistep_ancestral_cfg_pp", "gradient_estimation", "gradient_estimation_cfg_pp", "er_sde", "seeds_2",
    "seeds_3", "sa_solver", "sa_solver_pece", "ddim", "uni_pc", "uni_pc_bh2",
)  # fmt: skip
SCHEDULERS: tuple[str, ...] = (
    "simple", "sgm_uniform", "karras", "exponential", "ddim_uniform", "beta", "normal", "linear_quadratic",
    "kl_optimal",
)  # fmt: skip
_KNOWN_MISSPELLINGS = {"euler_a": "euler_ancestral", "dpm++_2m": "dpmpp_2m", "dpm++_2m_karras": "dpmpp_2m"}


def _nearest(value: str, names: tuple[str, ...]) -> list[str]:
    known = _KNOWN_MISSPELLINGS.get(value.lower())
    return [known] if known in names else difflib.get_close_matches(value.lower(), names, n=3)


def _checked(kind: str, names: tuple[str, ...]) -> AfterValidator:
    def check(value: str) -> str:
        if value in names:
            return value
        near = _nearest(value, names)
        guess = f" Did you mean {', '.join(repr(n) for n in near)}?" if near else ""
        raise ValueError(f"'{value}' is not a ComfyUI {kind}.{guess} Allowed: {', '.join(names)}")

    return AfterValidator(check)


SamplerName = Annotated[str, Field(min_length=1, max_length=100), _checked("sampler", SAMPLERS)]
"""A ComfyUI sampler name, e.g. "euler", "euler_ancestral", "dpmpp_2m"."""
SchedulerName = Annotated[str, Field(min_length=1, max_length=100), _checked("scheduler", SCHEDULERS)]
"""A ComfyUI scheduler name, e.g. "normal", "karras", "simple"."""
