"""A long-lived child Python process that runs a handler on one file at a time, each
under a CPU-time limit and a memory limit that the kernel enforces.

Why a process: a decoder handed a hostile file can stay busy in C (a libjpeg scan
loop, zlib) for minutes without coming back to Python, and nothing inside the
process can stop it; feeding the decoder in chunks (PIL.ImageFile.Parser) bounds
bytes, not work, since a 20-byte JPEG scan costs a pass over the whole image. The
child arms ITIMER_PROF before each file, and SIGPROF, left at its default action,
ends the child wherever it is (a crash in a decoder ends only the child, too). It
lives on between files, so a normal one costs a pipe round trip rather than an
interpreter start; one that was ended is replaced on the next call. POSIX only.

Memory: before each file the child sets RLIMIT_AS to the address space it uses now plus
what a file of the size the parent read from its header may need, and sets it again for
the size the decoder reads. An allocation past it fails (Pillow raises
MemoryError), and the parent hears that the file needed more than its limit, rather
than the machine swapping or the kernel's OOM killer choosing a victim. Where the
address space cannot be read (no /proc/self/statm), files run without the memory limit.
"""

from __future__ import annotations

import atexit
import os
import resource
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

# Request: op, format, the limits (Limits, in field order), then the file's length and bytes.
_REQUEST = struct.Struct(">4s4sdddddI")
# Replies: the limits once the handler knows the size (>dd CPU seconds, memory bytes);
# then a result or a refusal (>I length, then the parts the handler returned), or the
# memory limit that an allocation failed against (>d bytes).
_LIMITS, _RESULT, _REFUSED, _OUT_OF_MEMORY = b"C", b"R", b"E", b"M"

# (op, format, file, allow(pixels)) -> (accepted, the reply's parts). `allow` sets
# the CPU and memory limits for the image's size once the handler has read its header.
Handler = Callable[[bytes, str, bytes, Callable[[int], None]], tuple[bool, list[bytes]]]


@dataclass(frozen=True)
class Limits:
    """What one file may cost in the child: CPU seconds and bytes of memory, each a base
    plus an amount per pixel (per megapixel for CPU) of the image's size. ``pixels`` is
    the size as the parent read it from the header, which holds while the handler opens
    the file (a decoder may allocate as it opens); the handler's ``allow`` then sets the
    limits for the size its decoder reads."""

    cpu_seconds: float
    cpu_seconds_per_megapixel: float
    memory_bytes: float
    memory_bytes_per_pixel: float
    pixels: float

    def cpu_for(self, pixels: float) -> float:
        return self.cpu_seconds + self.cpu_seconds_per_megapixel * pixels / 1e6

    def memory_for(self, pixels: float) -> float:
        return self.memory_bytes + self.memory_bytes_per_pixel * pixels


class CpuLimitExceeded(Exception):
    """The child spent its CPU time on a file without finishing, and was ended."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"over {seconds:.1f} s of CPU time")
        self.seconds = seconds


class MemoryLimitExceeded(Exception):
    """An allocation for a file failed against the child's memory limit (the child lives on)."""

    def __init__(self, limit_bytes: float) -> None:
        super().__init__(f"over {limit_bytes / 2**20:,.0f} MB of memory")
        self.limit_bytes = limit_bytes


class DecodeProcessEnded(RuntimeError):
    """The child ended for a reason other than its CPU limit (a crash in a decoder)."""


class DecodeProcess:
    """The parent's side: start the child when needed, one file at a time through it."""

    def __init__(self, entry: str) -> None:
        self._entry = entry  # Python code that the child runs: it calls serve()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)
        os.register_at_fork(after_in_child=self._forget)

    def run(self, op: bytes, fmt: str, data: bytes, limits: Limits) -> tuple[bool, bytes]:
        """The handler's answer for `data`: (accepted, payload).

        Raises CpuLimitExceeded, MemoryLimitExceeded, or DecodeProcessEnded when the
        child ends for any other reason.
        """
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            try:
                kind, payload = self._exchange(self._process, op, fmt, data, limits)
            except MemoryLimitExceeded:
                raise  # a whole reply: the child and the pipes are fine
            except BaseException:
                self.stop()  # whatever was half sent or half read puts the pipes out of step
                raise
        return kind == _RESULT, payload

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None:
            process.kill()
            process.wait()
            for pipe in (process.stdin, process.stdout):
                if pipe is not None:
                    pipe.close()

    def _forget(self) -> None:
        # In a forked child: the process (and the lock's state) belong to the parent.
        self._lock = threading.Lock()
        self._process = None

    def _start(self) -> subprocess.Popen[bytes]:
        root = str(Path(__file__).resolve().parents[2])  # where `museforge` imports from
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
        return subprocess.Popen(
            [sys.executable, "-c", self._entry],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            start_new_session=True,  # Ctrl-C in a terminal is the parent's to handle
        )

    def _exchange(
        self,
        process: subprocess.Popen[bytes],
        op: bytes,
        fmt: str,
        data: bytes,
        limits: Limits,
    ) -> tuple[bytes, bytes]:
        assert process.stdin is not None and process.stdout is not None
        request = _REQUEST.pack(
            op,
            fmt.encode().ljust(4),
            limits.cpu_seconds,
            limits.cpu_seconds_per_megapixel,
            limits.memory_bytes,
            limits.memory_bytes_per_pixel,
            limits.pixels,
            len(data),
        )
        cpu_limit = limits.cpu_seconds
        try:
            process.stdin.write(request)
            process.stdin.write(data)
            process.stdin.flush()
            while (kind := _read_exactly(process.stdout, 1)) == _LIMITS:
                cpu_limit, _ = struct.unpack(">dd", _read_exactly(process.stdout, 16))
            if kind == _OUT_OF_MEMORY:
                (memory_limit,) = struct.unpack(">d", _read_exactly(process.stdout, 8))
                raise MemoryLimitExceeded(memory_limit)
            (length,) = struct.unpack(">I", _read_exactly(process.stdout, 4))
            return kind, _read_exactly(process.stdout, length)
        except (EOFError, BrokenPipeError):
            returncode = process.wait()
        self.stop()
        if returncode == -signal.SIGPROF:
            raise CpuLimitExceeded(cpu_limit)
        raise DecodeProcessEnded(f"the decode process ended with status {returncode}")


def serve(handler: Handler) -> None:
    """The child's loop: requests on stdin, replies on stdout, until stdin closes."""
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the replies
    unlimited = resource.getrlimit(resource.RLIMIT_AS)
    while _serve_one(handler, requests, replies, unlimited):
        pass


def _serve_one(
    handler: Handler, requests: IO[bytes], replies: IO[bytes], unlimited: tuple[int, int]
) -> bool:
    """Answer one request; False once stdin is closed. (A function, so that the file
    and its pixels are freed before the child waits for the next one.)"""
    try:
        *fields, length = _REQUEST.unpack(_read_exactly(requests, _REQUEST.size))
        data = _read_exactly(requests, length)
    except EOFError:
        return False
    op, fmt, *numbers = fields
    limiter = _Limiter(replies, Limits(*numbers), unlimited)
    try:
        accepted, parts = handler(op, fmt.decode().rstrip(), data, limiter.allow)
    except MemoryError:
        limiter.lift()  # first: building the reply needs memory too
        replies.write(_OUT_OF_MEMORY + struct.pack(">d", limiter.memory_allowed))
        replies.flush()
        return True
    limiter.lift()
    replies.write((_RESULT if accepted else _REFUSED) + struct.pack(">I", sum(map(len, parts))))
    for part in parts:
        replies.write(part)
    replies.flush()
    return True


class _Limiter:
    """The limits on one file in the child: armed for the size the parent read, set for
    the size the decoder reads by `allow(pixels)`, lifted after."""

    def __init__(self, replies: IO[bytes], limits: Limits, unlimited: tuple[int, int]) -> None:
        self._replies = replies
        self._limits = limits
        self._unlimited = unlimited
        self._started = time.process_time()
        self._base = _address_space()  # the interpreter, the libraries and the file's bytes
        self.memory_allowed = limits.memory_for(limits.pixels)
        signal.setitimer(signal.ITIMER_PROF, limits.cpu_seconds)
        self._limit_memory()

    def allow(self, pixels: int) -> None:
        cpu = self._limits.cpu_for(pixels)
        left = cpu - (time.process_time() - self._started)
        signal.setitimer(signal.ITIMER_PROF, max(left, 0.001))
        self.memory_allowed = self._limits.memory_for(pixels)
        self._limit_memory()
        self._replies.write(_LIMITS + struct.pack(">dd", cpu, self.memory_allowed))
        self._replies.flush()

    def lift(self) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0)
        resource.setrlimit(resource.RLIMIT_AS, self._unlimited)

    def _limit_memory(self) -> None:
        if self._base is None:
            return
        soft = self._base + int(self.memory_allowed)
        hard = self._unlimited[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))


def _address_space() -> int | None:
    """The bytes of address space this process has mapped, or None where it cannot be read."""
    try:
        with open("/proc/self/statm", "rb") as statm:
            pages = int(statm.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunk = stream.read(size)
    if len(chunk) < size:
        raise EOFError
    return chunk
