"""Loading pipelines from local folders, and one cache of them per process, bounded
by memory.

A model is loaded once and kept; sibling pipelines (img2img, inpaint) made from it with
``from_pipe`` share its modules and live in the same entry. When a new model would
overflow the budget, the least recently used entries are dropped first. Sizes are
estimated from the parameters and buffers of the entry's modules (each counted once)."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from museforge.models.devices import torch_dtype
from museforge.models.image.base import ImageBackendError

if TYPE_CHECKING:
    from museforge.models.devices import DevicePlan
    from museforge.models.image.weights import ModelFiles


@dataclass
class LoadedModel:
    """A loaded model: its main pipeline, siblings made from it, and a lock so that one
    request at a time runs it (schedulers keep state between steps)."""

    pipeline: Any
    bytes: int
    siblings: dict[str, Any] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    info: dict[str, Any] = field(default_factory=dict)

    def sibling(self, task: str, make: Callable[[Any], Any]) -> Any:
        with self.lock:
            if task not in self.siblings:
                self.siblings[task] = make(self.pipeline)
            return self.siblings[task]


def module_bytes(pipeline: Any) -> int:
    """Bytes held by the torch modules of a pipeline (or of a single module)."""
    import torch

    modules: list[torch.nn.Module] = []
    if isinstance(pipeline, torch.nn.Module):
        modules.append(pipeline)
    elif isinstance(getattr(pipeline, "model", None), torch.nn.Module):
        modules.append(pipeline.model)  # a spandrel model descriptor (the GAN upscalers)
    else:
        for value in getattr(pipeline, "components", {}).values():
            if isinstance(value, torch.nn.Module):
                modules.append(value)
    seen: set[int] = set()
    total = 0
    for module in modules:
        for tensor in [*module.parameters(), *module.buffers()]:
            if id(tensor) in seen:
                continue
            seen.add(id(tensor))
            total += tensor.numel() * tensor.element_size()
    return total


def set_budget(max_bytes: int | None) -> None:
    """Bound the process-wide cache (``Settings.pipeline_cache_bytes``, which the studio
    passes here); None: ``default_budget``'s half of memory."""
    global _budget
    _budget = max_bytes
    with _default_lock:
        if _default is not None:
            _default.max_bytes = default_budget()


def default_budget() -> int:
    """The bound set by ``set_budget``, else half of physical memory: pipelines stay
    resident in RAM even when offloaded to the GPU one module at a time, so the system
    memory is the binding limit."""
    if _budget is not None:
        return _budget
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") * 0.5)
    except (ValueError, OSError, AttributeError):
        return 8 * 1024**3


class PipelineCache:
    def __init__(self, max_bytes: int | None = None) -> None:
        self.max_bytes = default_budget() if max_bytes is None else max_bytes
        self._entries: OrderedDict[Hashable, LoadedModel] = OrderedDict()
        self._lock = threading.RLock()
        self.loads = 0  # how many times a loader ran (tests and benchmarks read it)
        self.evictions = 0

    def get(self, key: Hashable, load: Callable[[], Any]) -> LoadedModel:
        """The entry for ``key``, loading it (and evicting older ones) when absent."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                return entry
            pipeline = load()
            self.loads += 1
            entry = LoadedModel(pipeline=pipeline, bytes=module_bytes(pipeline))
            self._make_room(entry.bytes)
            self._entries[key] = entry
            return entry

    def _make_room(self, incoming: int) -> None:
        freed = False
        while self._entries and self.used_bytes + incoming > self.max_bytes:
            _, old = self._entries.popitem(last=False)
            old.siblings.clear()
            self.evictions += 1
            freed = True
        if freed:
            import gc

            gc.collect()
            try:
                import torch

                if torch.cuda.is_available():
                    torch.cuda.empty_cache()
            except ImportError:  # pragma: no cover - torch is present wherever we load
                pass

    def drop(self, keep: Callable[[Hashable], bool] = lambda key: False) -> int:
        """Drop every entry whose key ``keep`` refuses; how many were dropped."""
        with self._lock:
            gone = [key for key in self._entries if not keep(key)]
            for key in gone:
                self._entries.pop(key).siblings.clear()
            return len(gone)

    @property
    def used_bytes(self) -> int:
        return sum(entry.bytes for entry in self._entries.values())

    def keys(self) -> list[Hashable]:
        with self._lock:
            return list(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


_default: PipelineCache | None = None
_budget: int | None = None
_default_lock = threading.Lock()


def default_cache() -> PipelineCache:
    """The process-wide cache that backends share unless given their own."""
    global _default
    with _default_lock:
        if _default is None:
            _default = PipelineCache()
        return _default


# -- loading ------------------------------------------------------------------------------

def variant_for(files: ModelFiles, dtype: str) -> str | None:
    """The weights variant to load: the preset's (e.g. fp16) in half precision, or
    whenever only its files are present (a pull fetches just those)."""
    variant = files.variant
    if variant is None:
        return None
    has_plain = any(p for p in files.path.glob("*/*.safetensors")
                    if f".{variant}." not in p.name)
    return variant if dtype != "float32" or not has_plain else None


def load_pipeline(files: ModelFiles, path: Path, plan: DevicePlan,
                  safety_checker: bool) -> Any:
    """A pipeline from a local folder (never the network), on ``plan``'s device and dtype,
    with the preset's scheduler, and with or without the model's safety checker."""
    import diffusers

    from museforge.models.image.weights import read_index

    index = read_index(path)
    main = path == files.path
    preset = files.preset
    class_name = (preset.pipeline if main and preset and preset.pipeline
                  else index.get("_class_name"))
    cls = getattr(diffusers, str(class_name), diffusers.DiffusionPipeline)
    kwargs: dict[str, Any] = {dtype_arg(): torch_dtype(plan.dtype), "local_files_only": True}
    variant = variant_for(files, plan.dtype) if main else None
    if variant:
        kwargs["variant"] = variant
    if "safety_checker" in index and not safety_checker:
        kwargs |= {"safety_checker": None, "requires_safety_checker": False}
    try:
        with quiet_loading():
            pipe = cls.from_pretrained(path, **kwargs)
    except (OSError, ValueError) as error:
        raise ImageBackendError(f"Could not load '{files.model}' from {path}: {error}") \
            from error
    scheduler = preset.scheduler if main and preset else None
    if scheduler:
        pipe.scheduler = getattr(diffusers, scheduler).from_config(pipe.scheduler.config)
    pipe.set_progress_bar_config(disable=True)
    if plan.offload:
        pipe.enable_model_cpu_offload(device=plan.device)
    else:
        pipe.to(plan.device)
    return pipe


def dtype_arg() -> str:
    """diffusers renamed ``torch_dtype`` to ``dtype`` (0.36); older ones take only the first."""
    from diffusers.pipelines import pipeline_utils

    return "dtype" if hasattr(pipeline_utils, "_resolve_dtype") else "torch_dtype"


@contextmanager
def quiet_loading(warnings: bool = True) -> Iterator[None]:
    """No loading progress bars on the user's terminal (the front-ends show progress);
    without ``warnings``, no diffusers warnings either (``from_pipe`` warns about a
    dtype cast even when the dtype does not change)."""
    from diffusers.utils import logging as diffusers_logging
    from transformers.utils import logging as transformers_logging

    states = [(m, m.is_progress_bar_enabled()) for m in (diffusers_logging,
                                                         transformers_logging)]
    verbosity = diffusers_logging.get_verbosity()
    for module, _ in states:
        module.disable_progress_bar()
    if not warnings:
        diffusers_logging.set_verbosity_error()
    try:
        yield
    finally:
        diffusers_logging.set_verbosity(verbosity)
        for module, enabled in states:
            if enabled:
                module.enable_progress_bar()
