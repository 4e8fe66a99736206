"""ACE-Step 1.5 through diffusers (``AceStepPipeline``), from local weights only: text to
music (instrumental here: generate_audio takes no lyrics yet). Loading, the cache, the
seeded CPU generator, progress and cancel per step and the recipe are those of the other
diffusers audio pipelines (``PipelineAudioBackend``); this says how to call it. A turbo
(guidance-distilled) checkpoint runs without guidance, as diffusers does, and the recipe
records the guidance that ran (1.0)."""

from __future__ import annotations

from typing import Any

from museforge.models.audio.generation import ACE_STEP, AudioRequest
from museforge.models.audio.stable_audio import PipelineAudioBackend

DEFAULT_STEPS = 8  # ACE-Step 1.5's default for its turbo, base and sft checkpoints
DEFAULT_GUIDANCE = 7.0  # base and sft; a turbo one takes none
LONGEST_S = 600.0  # the model's own limit (10 minutes); the tool keeps to 30 s


class AceStepBackend(PipelineAudioBackend):
    name = ACE_STEP
    pipeline_class = "AceStepPipeline"
    default_preset = "ace-step"
    negative = False

    def model_default_steps(self) -> int:
        return DEFAULT_STEPS

    def longest_s(self, pipe: Any) -> float:
        return LONGEST_S

    def guidance(self, pipe: Any, request: AudioRequest) -> float:
        if pipe.is_turbo:
            return 1.0
        return DEFAULT_GUIDANCE if request.guidance is None else request.guidance

    def call_args(self, request: AudioRequest, steps: int, guidance: float) -> dict[str, Any]:
        return {"prompt": request.prompt, "lyrics": "", "audio_duration": float(request.seconds),
                "num_inference_steps": steps, "guidance_scale": guidance}
