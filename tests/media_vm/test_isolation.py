"""Ctrl-C on a terminal signals the whole foreground process group, the image processes too:
they ignore it (the worker stops them after its warm shutdown), with no traceback, and a call
under way finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from tests.helpers.processes import reaped

ROOT = Path(__file__).resolve().parents[2]

# a worker's part: one image process, SIGINT handled as a warm shutdown (media_vm/worker/loop.py)
WORKER = """
import os, signal, sys, time
from media_vm.isolation import ImageProcesses

images = ImageProcesses(timeout=60)
stopping = []
signal.signal(signal.SIGINT, lambda *_: stopping.append(True))
print(images.call(os.getpid), flush=True)
images.call(time.sleep, 2)  # Ctrl-C lands during this call
print("call finished", flush=True)
while not stopping:
    time.sleep(0.05)
print("image process alive after Ctrl-C:", images.current().pid is not None, flush=True)
images.stop()
"""


def test_ctrl_c_leaves_image_processes_quiet_and_the_call_finishes():
    proc = subprocess.Popen([sys.executable, "-c", WORKER], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    with reaped(proc):
        assert proc.stdout is not None
        child = int(proc.stdout.readline())
        time.sleep(0.5)
        os.killpg(proc.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "call finished" in out
    assert "image process alive after Ctrl-C: True" in out
    time.sleep(0.2)
    try:
        os.kill(child, 0)
        alive = True
    except ProcessLookupError:
        alive = False
    assert not alive, "the image process outlived its worker"
