"""Where a model runs and in what precision. ``plan_device`` is a pure decision over
``DeviceFacts`` (so it is tested without a GPU); ``detect`` reads the facts from torch."""

from __future__ import annotations

from dataclasses import dataclass

DTYPES = ("float32", "float16", "bfloat16")
# Below this much VRAM a Stable Diffusion-sized model is kept in system memory and
# moved to the GPU one component at a time (diffusers' model CPU offload).
SMALL_VRAM_BYTES = 8 * 1024**3


@dataclass(frozen=True)
class DeviceFacts:
    cuda: bool = False
    cuda_bf16: bool = False
    vram_bytes: int | None = None  # of the chosen CUDA device
    mps: bool = False


@dataclass(frozen=True)
class DevicePlan:
    device: str  # "cuda", "cuda:1", "mps", "cpu"
    dtype: str  # one of DTYPES
    offload: bool  # enable_model_cpu_offload instead of moving the pipeline

    @property
    def is_cuda(self) -> bool:
        return self.device.startswith("cuda")


def plan_device(device: str | None, dtype: str | None, facts: DeviceFacts, *,
                cuda_dtype: str = "float16", model_bytes: int | None = None) -> DevicePlan:
    """Choose device, dtype and offload: CUDA in half precision (``cuda_dtype``, bf16
    only where the GPU has it), then Apple MPS in fp16, else the CPU in fp32. ``device``
    and ``dtype`` override the choice; an impossible request is an error."""
    if dtype is not None and dtype not in DTYPES:
        raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
    if device is None:
        device = "cuda" if facts.cuda else "mps" if facts.mps else "cpu"
    if device.startswith("cuda") and not facts.cuda:
        raise ValueError(f"device {device!r} was asked for but CUDA is not available here")
    if device == "mps" and not facts.mps:
        raise ValueError("device 'mps' was asked for but Apple MPS is not available here")
    if not (device == "cpu" or device == "mps" or device.startswith("cuda")):
        raise ValueError(f"device must be cpu, cuda, cuda:N or mps, not {device!r}")

    if dtype is None:
        if device.startswith("cuda"):
            dtype = cuda_dtype if cuda_dtype != "bfloat16" or facts.cuda_bf16 else "float16"
        elif device == "mps":
            dtype = "float16"
        else:
            # Half precision on CPU is slow or unsupported for many kernels.
            dtype = "float32"

    offload = False
    if device.startswith("cuda") and facts.vram_bytes is not None:
        budget = SMALL_VRAM_BYTES if model_bytes is None else int(model_bytes * 1.3)
        offload = facts.vram_bytes < max(budget, SMALL_VRAM_BYTES)
    return DevicePlan(device, dtype, offload)


def detect(device: str | None = None) -> DeviceFacts:
    """The facts of this machine as torch sees them (imports torch)."""
    import torch

    cuda = torch.cuda.is_available()
    vram = None
    bf16 = False
    if cuda:
        index = torch.device(device).index if device and device.startswith("cuda") else None
        index = torch.cuda.current_device() if index is None else index
        vram = int(torch.cuda.get_device_properties(index).total_memory)
        bf16 = bool(torch.cuda.is_bf16_supported())
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    return DeviceFacts(cuda=cuda, cuda_bf16=bf16, vram_bytes=vram, mps=mps)


def torch_dtype(name: str):  # -> torch.dtype
    import torch

    return {"float32": torch.float32, "float16": torch.float16,
            "bfloat16": torch.bfloat16}[name]


def empty_cache(device: str) -> None:
    """Return freed blocks to the driver after a failure or an eviction."""
    import gc

    import torch

    gc.collect()
    if device.startswith("cuda") and torch.cuda.is_available():
        torch.cuda.empty_cache()
    elif device == "mps" and hasattr(torch, "mps"):
        torch.mps.empty_cache()
