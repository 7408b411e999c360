"""Image work in a child process, with a time limit.

libvips runs on untrusted bytes. A file that makes a decoder spin, or crash, must cost one
image, not the worker: each worker thread keeps one child process (started with ``spawn``,
so no libvips thread crosses a ``fork``) and sends it one call at a time. A call that runs
past ``timeout`` seconds has its child killed and raises :class:`ImageTimeout`; a child that
dies raises :class:`ImageProcessingError`. The next call starts a fresh child. With
``timeout`` 0 the call runs in the worker's own process (no isolation, no limit).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, TypeVar

from media_vm.exceptions import ImageProcessingError, ImageTimeout, StorageUnavailable, is_environmental

log = logging.getLogger(__name__)
T = TypeVar("T")


def _child(conn: Connection) -> None:  # runs in the child process
    # Ctrl-C reaches the whole foreground process group: the worker shuts down warmly and
    # stops this process itself; here it would only print a KeyboardInterrupt traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        _serve(conn)
    except (KeyboardInterrupt, EOFError, BrokenPipeError, ConnectionResetError):
        return  # interrupted before SIGINT was ignored, or the worker went away: nothing to say


def _serve(conn: Connection) -> None:
    from media_vm.imaging import configure_libvips

    configure_libvips()
    while True:
        try:
            func, args, kwargs = conn.recv()
        except EOFError:
            return
        try:
            result = ("ok", func(*args, **kwargs))
        except BaseException as e:  # noqa: BLE001 - every failure goes back to the parent
            # causes do not survive pickling: a storage failure is named as such here
            if is_environmental(e):
                e = StorageUnavailable(f"{type(e).__name__}: {e}")
            result = ("error", e)
        try:
            conn.send(result)
        except (BrokenPipeError, ConnectionResetError):
            return  # the worker is gone (killed, or stopped this call)
        except Exception as e:  # noqa: BLE001 - a result or an exception that does not pickle
            error = result[1] if result[0] == "error" else e
            conn.send(("error", ImageProcessingError(f"{type(error).__name__}: {error}")))


class ImageProcess:
    """One child process serving calls from one thread."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._proc: multiprocessing.process.BaseProcess | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        # glibc's per-thread malloc arenas fragment under libvips' threads: a worker's RSS
        # grew 27% over 500 images by default and stayed flat (+1%) with two arenas
        os.environ.setdefault("MALLOC_ARENA_MAX", "2")
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_child, args=(child,), name="media-vm-image", daemon=True)
        self._proc.start()
        child.close()
        self._conn = parent
        return parent

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None and self._proc.is_alive() else None

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        if self.timeout <= 0:
            return func(*args, **kwargs)
        alive = self._proc is not None and self._proc.is_alive() and self._conn is not None
        conn = self._conn if alive and self._conn is not None else self._start()
        started = time.monotonic()
        try:
            conn.send((func, args, kwargs))
            if not conn.poll(self.timeout):
                self.stop()
                raise ImageTimeout(f"{func.__name__} took longer than {self.timeout:g} s; its process was killed")
            status, value = conn.recv()
        except (EOFError, BrokenPipeError, ConnectionResetError, OSError) as e:
            code = self._proc.exitcode if self._proc is not None else None
            self.stop()
            raise ImageProcessingError(
                f"the image process died during {func.__name__} (exit code {code})"
            ) from e
        log.debug("%s ran in the image process in %.2fs", func.__name__, time.monotonic() - started)
        if status == "error":
            raise value
        return value  # type: ignore[no-any-return]

    def stop(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(timeout=10)
        if self._conn is not None:
            self._conn.close()
        self._proc = self._conn = None


class ImageProcesses:
    """One :class:`ImageProcess` per thread that asks, stopped together at shutdown."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._local = threading.local()
        self._all: list[ImageProcess] = []
        self._lock = threading.Lock()

    def current(self) -> ImageProcess:
        proc = getattr(self._local, "proc", None)
        if proc is None:
            proc = self._local.proc = ImageProcess(self.timeout)
            with self._lock:
                self._all.append(proc)
        return proc

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.current().call(func, *args, **kwargs)

    def stop(self) -> None:
        with self._lock:
            for proc in self._all:
                proc.stop()
            self._all.clear()
