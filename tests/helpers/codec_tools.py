"""The codecs' own command-line tools that tests make and check files with: ``jpegtran``
(libjpeg-turbo-progs), ``avifenc``/``avifdec`` (libavif-bin), ``dwebp`` (webp).

``make test`` and ``.ci/run`` install them with apt; a test that needs a missing one is skipped
with the package to install, and fails under CI (``CI`` set), where they must be there.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

#: The Debian package of each tool.
PACKAGES: dict[str, str] = {
    "jpegtran": "libjpeg-turbo-progs",
    "djpeg": "libjpeg-turbo-progs",
    "avifenc": "libavif-bin",
    "avifdec": "libavif-bin",
    "dwebp": "webp",
    "cwebp": "webp",
}


def require_tool(name: str) -> str:
    """The path of the tool ``name``; skips the test where it is missing (fails under CI)."""
    found = shutil.which(name)
    if found:
        return found
    package = PACKAGES.get(name, name)
    if os.environ.get("CI"):
        pytest.fail(f"{name} ({package}) is missing and CI is set: .ci/run installs it")
    pytest.skip(f"{name} not installed (apt-get install {package}; make test does it)")


def run_tool(*args: str | Path) -> None:
    """Run a tool; a failure fails the test with its output."""
    done = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        pytest.fail(f"{args[0]} failed ({done.returncode}): {done.stderr or done.stdout}")


def read_pam(path: Path) -> np.ndarray:
    """The samples of a PAM file (``dwebp -pam``): height x width x depth, uint8."""
    raw = path.read_bytes()
    header, _, body = raw.partition(b"ENDHDR\n")
    fields = dict(line.split(b" ", 1) for line in header.splitlines()[1:] if b" " in line)
    width, height, depth = (int(fields[key]) for key in (b"WIDTH", b"HEIGHT", b"DEPTH"))
    return np.frombuffer(body, dtype=np.uint8, count=width * height * depth).reshape(height, width, depth)
