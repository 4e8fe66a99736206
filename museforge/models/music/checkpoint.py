"""What a melody model's weights folder holds, and reading it without torch: the file
names (``train.py`` writes them, the run-time model and ``evaluate.py`` read them), the
network's shape (``VAEConfig``) and a safetensors reader in plain numpy.

The base install has neither torch nor the ``safetensors`` package, so the reader parses
the format itself: an 8-byte little-endian header length, a JSON header naming each
tensor's dtype, shape and byte range, then the raw little-endian data."""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from museforge.models.music.base import MusicError
from museforge.models.music.data import VOCAB

WEIGHTS_DIR = Path(__file__).parent / "weights"  # the committed model
WEIGHTS_FILE = "melody_vae.safetensors"
CONFIG_FILE = "config.json"
HELDOUT_FILE = "heldout.npz"
CARD_FILE = "MODEL_CARD.md"
FIGURES_FILE = "figures.json"  # the card's figures, as numbers (eval-music compares them)

MAX_HEADER_BYTES = 1 << 20  # a header of a few hundred tensors is a few kB

_DTYPES = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "U8": "u1", "I16": "<i2",
           "I32": "<i4", "I64": "<i8", "BOOL": "?"}


@dataclass(frozen=True)
class VAEConfig:
    """The melody VAE's layer sizes (``config.json``'s ``model``)."""

    vocab: int = VOCAB
    embed: int = 48
    meter_embed: int = 8
    encoder: int = 256  # per direction
    decoder: int = 384
    decoder_layers: int = 1
    latent: int = 64

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


def read_safetensors(path: Path | str) -> dict[str, np.ndarray]:
    """Every tensor of a safetensors file as a numpy array of its stored dtype (BF16 is
    widened to float32, which holds it exactly)."""
    path = Path(path)
    data = path.read_bytes()
    bad = f"{path.name} is not a readable safetensors file"
    if len(data) < 8:
        raise MusicError(bad)
    (size,) = struct.unpack("<Q", data[:8])
    if size > min(MAX_HEADER_BYTES, len(data) - 8):
        raise MusicError(bad)
    try:
        header = json.loads(data[8:8 + size])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MusicError(bad) from exc
    if not isinstance(header, dict):
        raise MusicError(bad)
    body = memoryview(data)[8 + size:]
    out: dict[str, np.ndarray] = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        try:
            dtype, shape = info["dtype"], [int(d) for d in info["shape"]]
            begin, end = (int(x) for x in info["data_offsets"])
        except (KeyError, TypeError, ValueError) as exc:
            raise MusicError(f"{bad} (tensor {name!r})") from exc
        count = int(np.prod(shape, dtype=np.int64))
        if dtype == "BF16":
            item = 2
        elif dtype in _DTYPES:
            item = np.dtype(_DTYPES[dtype]).itemsize
        else:
            raise MusicError(f"{path.name}: tensor {name!r} has dtype {dtype}, which this "
                             "reader does not know")
        if not 0 <= begin <= end <= len(body) or end - begin != count * item \
                or min(shape, default=0) < 0:
            raise MusicError(f"{bad} (tensor {name!r} does not fit its byte range)")
        raw = body[begin:end]
        if dtype == "BF16":
            wide = np.frombuffer(raw, "<u2").astype(np.uint32) << 16
            out[name] = wide.view(np.float32).reshape(shape)
        else:
            out[name] = np.frombuffer(raw, _DTYPES[dtype]).reshape(shape).copy()
    return out


@dataclass(frozen=True)
class Checkpoint:
    """A weights folder read into memory: float32 tensors by their torch state-dict names,
    the layer sizes, ``config.json`` whole and the revision (first 12 hex digits of the
    weights' sha256)."""

    tensors: dict[str, np.ndarray]
    model: VAEConfig
    config: dict[str, Any]
    revision: str


def load_checkpoint(path: Path | str) -> Checkpoint:
    path = Path(path)
    weights = path / WEIGHTS_FILE
    if not weights.exists():
        raise MusicError(f"no melody model weights at {weights}; run "
                         "`museforge train-music` to make them")
    config = json.loads((path / CONFIG_FILE).read_text())
    tensors = {k: v.astype(np.float32) for k, v in read_safetensors(weights).items()}
    revision = hashlib.sha256(weights.read_bytes()).hexdigest()[:12]
    return Checkpoint(tensors, VAEConfig(**config["model"]), config, revision)
