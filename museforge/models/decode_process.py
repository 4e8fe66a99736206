"""A long-lived child Python process that runs a handler on one file at a time, each
under a CPU-time limit that the kernel enforces.

Why a process: a decoder handed a hostile file can stay busy in C (a libjpeg scan
loop, zlib) for minutes without coming back to Python, and nothing inside the
process can stop it; feeding the decoder in chunks (PIL.ImageFile.Parser) bounds
bytes, not work, since a 20-byte JPEG scan costs a pass over the whole image. The
child arms ITIMER_PROF before each file, and SIGPROF, left at its default action,
ends the child wherever it is (a crash in a decoder ends only the child, too). It
lives on between files, so a normal one costs a pipe round trip rather than an
interpreter start; one that was ended is replaced on the next call. POSIX only.
"""

from __future__ import annotations

import atexit
import os
import signal
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

# Request: op, format, CPU seconds, CPU seconds per megapixel, then the file's length and bytes.
_REQUEST = struct.Struct(">4s4sddI")
# Replies: the CPU limit once the handler knows the size (>d seconds); then a result
# or a refusal (>I length, then the parts the handler returned).
_CPU_LIMIT, _RESULT, _REFUSED = b"C", b"R", b"E"

# (op, format, file, allow(pixels)) -> (accepted, the reply's parts). `allow` sets
# the CPU limit for the image's size once the handler has read its header.
Handler = Callable[[bytes, str, bytes, Callable[[int], None]], tuple[bool, list[bytes]]]


class CpuLimitExceeded(Exception):
    """The child spent its CPU time on a file without finishing, and was ended."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"over {seconds:.1f} s of CPU time")
        self.seconds = seconds


class DecodeProcess:
    """The parent's side: start the child when needed, one file at a time through it."""

    def __init__(self, entry: str) -> None:
        self._entry = entry  # Python code that the child runs: it calls serve()
        self._lock = threading.Lock()
        self._process: subprocess.Popen[bytes] | None = None
        atexit.register(self.stop)
        os.register_at_fork(after_in_child=self._forget)

    def run(
        self, op: bytes, fmt: str, data: bytes, seconds: float, per_megapixel: float
    ) -> tuple[bool, bytes]:
        """The handler's answer for `data`: (accepted, payload).

        Raises CpuLimitExceeded, or RuntimeError when the child ends for any other reason.
        """
        with self._lock:
            if self._process is None or self._process.poll() is not None:
                self._process = self._start()
            try:
                kind, payload = self._exchange(self._process, op, fmt, data, seconds, per_megapixel)
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
        seconds: float,
        per_megapixel: float,
    ) -> tuple[bytes, bytes]:
        assert process.stdin is not None and process.stdout is not None
        request = _REQUEST.pack(op, fmt.encode().ljust(4), seconds, per_megapixel, len(data))
        limit = seconds
        try:
            process.stdin.write(request)
            process.stdin.write(data)
            process.stdin.flush()
            while (kind := _read_exactly(process.stdout, 1)) == _CPU_LIMIT:
                (limit,) = struct.unpack(">d", _read_exactly(process.stdout, 8))
            (length,) = struct.unpack(">I", _read_exactly(process.stdout, 4))
            return kind, _read_exactly(process.stdout, length)
        except (EOFError, BrokenPipeError):
            returncode = process.wait()
        self.stop()
        if returncode == -signal.SIGPROF:
            raise CpuLimitExceeded(limit)
        raise RuntimeError(f"the decode process ended with status {returncode}")


def serve(handler: Handler) -> None:
    """The child's loop: requests on stdin, replies on stdout, until stdin closes."""
    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    requests = sys.stdin.buffer
    replies = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # whatever a library prints goes to stderr, not into the replies
    while _serve_one(handler, requests, replies):
        pass


def _serve_one(handler: Handler, requests: IO[bytes], replies: IO[bytes]) -> bool:
    """Answer one request; False once stdin is closed. (A function, so that the file
    and its pixels are freed before the child waits for the next one.)"""
    try:
        op, fmt, seconds, per_megapixel, length = _REQUEST.unpack(
            _read_exactly(requests, _REQUEST.size)
        )
        data = _read_exactly(requests, length)
    except EOFError:
        return False
    accepted, parts = handler(
        op, fmt.decode().rstrip(), data, _cpu_limiter(replies, seconds, per_megapixel)
    )
    signal.setitimer(signal.ITIMER_PROF, 0)
    replies.write((_RESULT if accepted else _REFUSED) + struct.pack(">I", sum(map(len, parts))))
    for part in parts:
        replies.write(part)
    replies.flush()
    return True


def _cpu_limiter(replies: IO[bytes], seconds: float, per_megapixel: float) -> Callable[[int], None]:
    """Arm the CPU timer at `seconds`; the function returned moves it once the size is known."""
    started = time.process_time()
    signal.setitimer(signal.ITIMER_PROF, seconds)

    def allow(pixels: int) -> None:
        limit = seconds + per_megapixel * pixels / 1e6
        left = limit - (time.process_time() - started)
        signal.setitimer(signal.ITIMER_PROF, max(left, 0.001))
        replies.write(_CPU_LIMIT + struct.pack(">d", limit))
        replies.flush()

    return allow


def _read_exactly(stream: IO[bytes], size: int) -> bytes:
    chunk = stream.read(size)
    if len(chunk) < size:
        raise EOFError
    return chunk
