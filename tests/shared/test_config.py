"""Settings declared once (shared/config.py): parsing names the variable and the value, secrets
are masked, and the outputs file is read when a service starts, not when ``shared.sizes`` is imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from main_api.declarations import MAIN_API
from media_vm.declarations import MEDIA_VM
from shared.config import MASK, Declarations, Group, Setting, SettingError, between, report_lines

ROOT = Path(__file__).resolve().parents[2]
DECLARED = Declarations("demo", "intro", "x.env.example", (
    Group("numbers", "numbers", (
        Setting("COUNT", int, 3, "How many.", check=between(1, 10)),
        Setting("RATE", float, 0.5, "How fast."),
        Setting("ON", bool, False, "Whether."),
    )),
    Group("words", "words", (
        Setting("KEYS", list, [], "Keys.", secret=True),
        Setting("URL", str, "sqlite:///x", "A database."),
        Setting("MODE", str, "a", "A mode.", choices=("a", "b")),
        Setting("CMD", str, "tool", "A command; empty turns it off.", blank=True),
    )),
))


@pytest.mark.parametrize(("declarations", "name", "raw", "problem"), [
    (DECLARED, "COUNT", "many", "must be an integer"),
    (DECLARED, "COUNT", "11", "must be between 1 and 10"),
    (DECLARED, "ON", "maybe", "must be 1 or 0 (true/false, yes/no, on/off)"),
    (DECLARED, "MODE", "c", "must be one of a, b"),
    (MAIN_API, "UPLOAD_EVENTS_POLL_SECONDS", "fast", "must be a number"),
    (MAIN_API, "DJANGO_HSTS_PRELOAD", "perhaps", "must be 1 or 0 (true/false, yes/no, on/off)"),
    (MAIN_API, "DIRECT_UPLOAD_SECONDS", "5", "must be between 10 and 604800"),
    (MAIN_API, "URL_IMPORT_TIMEOUT_SECONDS", "600", "must be above 0 and at most 120"),
    (MAIN_API, "REQUEST_HEADER_TIMEOUT_SECONDS", "0", "must be > 0"),
    (MAIN_API, "LOG_FORMAT", "xml", "must be one of json, text"),
    (MEDIA_VM, "MAX_ATTEMPTS", "3.5", "must be an integer"),
    (MEDIA_VM, "HEARTBEAT_SECONDS", "5s", "must be a number"),
    (MEDIA_VM, "MEDIA_VM_ACCEL_REDIRECT", "_variants", "must start and end with '/'"),
    (MEDIA_VM, "MEDIA_S3_URL_EXPIRES", "10", "must be between 60 and 604800"),
], ids=lambda v: v.service if isinstance(v, Declarations) else None)
def test_a_bad_value_names_the_variable_and_the_value(declarations, name, raw, problem):
    with pytest.raises(SettingError) as caught:
        declarations.read({name: raw})
    assert str(caught.value) == f"{name} {problem}, got {raw!r}"
    assert (caught.value.name, caught.value.value) == (name, raw)
    assert isinstance(caught.value, ValueError)  # what callers that predate it catch


def test_values_their_defaults_and_their_sources():
    env = {"COUNT": " 7 ", "ON": "yes", "KEYS": " a, b ,", "MODE": "B", "RATE": "", "CMD": ""}
    assert DECLARED.read(env) == {"COUNT": 7, "RATE": 0.5, "ON": True, "KEYS": ["a", "b"], "URL": "sqlite:///x",
                                  "MODE": "b", "CMD": ""}
    assert DECLARED.read({})["CMD"] == "tool"  # unset: the default; set empty: empty (blank)
    sources = {item.setting.name: item.source for item in DECLARED.report(env)}
    assert sources == {"COUNT": "environment", "RATE": "default", "ON": "environment", "KEYS": "environment",
                       "URL": "default", "MODE": "environment", "CMD": "environment"}


def test_the_report_masks_secrets_and_passwords_and_shows_a_bad_value():
    lines = report_lines(DECLARED, {"KEYS": "very-secret", "URL": "mysql://app:hunter2@db/x", "COUNT": "0"})
    text = "\n".join(lines)
    assert "very-secret" not in text and "hunter2" not in text
    assert any(line.startswith("KEYS=") and MASK in line and "(environment)" in line for line in lines)
    assert any(line.startswith("URL=") and f"mysql://app:{MASK}@db/x" in line for line in lines)
    assert any(line.startswith("COUNT=") and "invalid: COUNT must be between 1 and 10, got '0'" in line
               for line in lines)
    assert lines[0] == "# numbers" and "# words" in lines


@pytest.mark.parametrize("declarations", [MAIN_API, MEDIA_VM], ids=["main_api", "media_vm"])
def test_each_service_declares_each_setting_once_with_help_and_a_parsable_default(declarations):
    names = [s.name for s in declarations]
    assert len(names) == len(set(names))
    for setting in declarations:
        assert setting.help.strip() and declarations.group_of(setting.name).title
        if setting.default not in (None, "", []):  # the default survives its own parser
            assert setting.parse(setting.shown(setting.default)) == setting.default, setting.name
        if setting.example:
            setting.parse(setting.example)


def test_importing_the_sizes_reads_no_outputs_file(tmp_path):
    code = ("import shared.sizes, shared.outputs as o\n"
            "assert o._started is None\n"
            "try:\n    o.start()\nexcept o.OutputsConfigError as e:\n    print('refused at start:', e)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env={"PATH": "/usr/bin:/bin", "MEDIA_OUTPUTS_FILE": str(tmp_path / "missing.toml")})
    assert run.returncode == 0, run.stderr
    assert f"refused at start: {tmp_path / 'missing.toml'}: cannot read the outputs file" in run.stdout
