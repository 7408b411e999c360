"""docker-compose.yml, the systemd units, the env examples and nginx: every command they run
exists with the options given, every service has a healthcheck and its volumes, every setting
the code reads is documented. (No Docker engine here: the files are checked, not started.)"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"


def invocations(command: str | list[str]) -> list[list[str]]:
    """The ``python -m PKG ...`` / ``python deploy/x.py ...`` argument lists inside a command,
    also those chained with && inside ``sh -c "..."``."""
    words = shlex.split(command) if isinstance(command, str) else list(command)
    if words[:1] == ["CMD"]:
        words = words[1:]
    if words[:2] == ["sh", "-c"] or words[:2] == ["/bin/sh", "-c"]:
        found = []
        for part in re.split(r"&&|;", words[2]):
            found += invocations(part)
        return found
    words = [w for w in words if w != "exec"]
    if words and Path(words[0]).name.startswith("python"):
        return [words[1:]]
    return []


def check_invocation(argv: list[str], monkeypatch) -> str:
    """Parse ``argv`` (after ``python``) exactly as the program would; returns what it names."""
    if argv[:2] == ["-m", "main_api"]:
        sub, args = argv[2], argv[3:]
        if sub == "serve":
            from main_api.__main__ import gunicorn_argv

            assert "main_api.asgi:application" in gunicorn_argv(args)
            return "main_api serve"
        from django.core.management import get_commands, load_command_class

        commands = get_commands()
        assert sub in commands, f"python -m main_api {sub}: no such command"
        load_command_class(commands[sub], sub).create_parser("python -m main_api", sub).parse_args(args)
        return f"main_api {sub}"
    if argv[:2] == ["-m", "media_vm"]:
        import media_vm.__main__ as vm_main
        from media_vm import logging_setup

        monkeypatch.setattr(logging_setup, "configure", lambda **kwargs: None)  # leave pytest's logging be
        chosen = []
        for name in dir(vm_main):
            if name.startswith("cmd_"):
                monkeypatch.setattr(vm_main, name, lambda args, _n=name: chosen.append((_n, args)) or 0)
        assert vm_main.main(argv[2:]) == 0
        [(name, _)] = chosen
        assert name == f"cmd_{argv[2]}"
        return f"media_vm {argv[2]}"
    if argv[:1] == ["deploy/healthcheck.py"]:
        import importlib.util

        spec = importlib.util.spec_from_file_location("healthcheck", DEPLOY / "healthcheck.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        monkeypatch.setattr(module, "http_ok", lambda url: url.startswith("http://"))
        monkeypatch.setattr(module, "worker_alive", lambda max_age: max_age > 0)
        assert module.main(argv[1:]) == 0
        return f"healthcheck {argv[1]}"
    if argv[:1] == ["-c"]:
        compile(argv[1], "<healthcheck>", "exec")
        return "python -c"
    raise AssertionError(f"unknown program: python {' '.join(argv)}")


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_runs_the_whole_system(compose):
    services = compose["services"]
    assert {"mysql", "main-api", "scheduler", "media-vm"} <= set(services)
    workers = [name for name, s in services.items() if "media_vm worker" in str(s.get("command", ""))]
    assert len(workers) == 2, workers
    worker_ids = {services[w]["environment"]["WORKER_ID"] for w in workers}
    assert len(worker_ids) == 2  # distinct names in leases and heartbeats


def test_every_compose_command_and_healthcheck_exists(compose, monkeypatch, db):
    seen = set()
    for name, service in compose["services"].items():
        if name == "mysql":
            continue
        runs = invocations(service["command"])
        assert runs, f"{name}: no python command found in {service['command']!r}"
        for argv in runs:
            seen.add(check_invocation(argv, monkeypatch))
        for argv in invocations(service["healthcheck"]["test"]):
            check_invocation(argv, monkeypatch)
    assert {"main_api serve", "main_api migrate", "main_api run_scheduler", "media_vm serve", "media_vm migrate",
            "media_vm worker"} <= seen


def test_every_service_has_a_healthcheck_and_its_volumes(compose):
    declared = set(compose["volumes"])
    for name, service in compose["services"].items():
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
        volumes = service.get("volumes") or []
        assert volumes, f"{name} has no volume"
        for volume in volumes:
            source = volume.split(":")[0]
            assert source.startswith("./") or source in declared, f"{name}: volume {source} is not declared"
    env = compose["services"]
    assert "temp-images:/data/temp_images" in env["main-api"]["volumes"]
    assert "temp-images:/data/temp_images" in env["scheduler"]["volumes"]
    for name in ("media-vm", "worker-1", "worker-2"):
        assert "media:/data/media" in env[name]["volumes"]


def test_compose_publishes_nothing_of_the_media_vm(compose):
    """Browsers get smart URLs on the main API (its /api/images proxy); the VM stays on the
    compose network, where only the main API and the workers reach it."""
    services = compose["services"]
    for name, service in services.items():
        if "media_vm" in str(service.get("command", "")):
            assert not service.get("ports"), f"{name} publishes {service['ports']}"
    assert "/api/images" in services["main-api"]["environment"]["SMART_MEDIA_BASE_URL"]


def test_nginx_on_the_vm_host_allows_only_private_callers():
    vm = (DEPLOY / "nginx" / "media_vm.conf").read_text()
    server = vm.split("server {", 1)[1]
    # the allow-list applies to the whole server block, /metrics and /similar included
    assert server.index("deny all;") < server.index("location ")
    assert "allow 0.0.0.0/0" not in vm and "allow all" not in vm
    locations = set(re.findall(r"location\s+(=?\s*\S+)\s*\{", vm))
    assert locations == {"/serve/", "/similar/", "= /health", "= /metrics", "/_variants/", "/"}, locations
    assert "location / { return 404; }" in vm


def unit_exec_lines(path: Path) -> list[str]:
    return [line.split("=", 1)[1] for line in path.read_text().splitlines() if line.startswith(("ExecStart=",
                                                                                                 "ExecStartPre="))]


def test_systemd_units_run_real_commands(monkeypatch, db):
    units = sorted((DEPLOY / "systemd").glob("*.service"))
    assert {u.name for u in units} == {"oaf-main-api.service", "oaf-scheduler.service", "oaf-media-vm.service",
                                       "oaf-media-worker@.service"}
    seen = set()
    for unit in units:
        text = unit.read_text()
        assert "[Install]" in text and "Restart=" in text and "EnvironmentFile=" in text, unit.name
        for line in unit_exec_lines(unit):
            line = line.replace('"$${WORKER_CONCURRENCY}"', "2")  # the template's shell expansion
            runs = invocations(line)
            assert runs, f"{unit.name}: {line}"
            for argv in runs:
                seen.add(check_invocation(argv, monkeypatch))
    assert {"main_api serve", "main_api run_scheduler", "media_vm serve", "media_vm worker"} <= seen
    assert "WORKER_ID=%H-worker-%i" in (DEPLOY / "systemd" / "oaf-media-worker@.service").read_text()
    # the admin and /api/docs/ need the static files before the first request (issue 13, item 10)
    main_api = unit_exec_lines(DEPLOY / "systemd" / "oaf-main-api.service")
    assert any("main_api collectstatic --noinput" in line for line in main_api[:-1])


def settings_read(package: str) -> set[str]:
    """Every environment variable a package's code reads by name."""
    pattern = re.compile(
        r"""(?:environ\.get\(|environ\[|getenv\(|_env_\w+\(|\b_int\(|\b_float\()\s*["']([A-Z][A-Z0-9_]+)["']"""
    )
    names: set[str] = set()
    for path in (ROOT / package).rglob("*.py"):
        names |= set(pattern.findall(path.read_text()))
    return names


#: Read by the code but not settings of a deployment.
NOT_SETTINGS = {"PATH_INFO", "REQUEST_METHOD", "QUERY_STRING", "HTTP_ACCEPT", "HTTP_IF_NONE_MATCH",
                "DJANGO_SETTINGS_MODULE"}


@pytest.mark.parametrize(("package", "example", "gunicorn"), [
    ("main_api", "main_api.env.example", "gunicorn_main_api.py"),
    ("media_vm", "media_vm.env.example", "gunicorn_media_vm.py"),
])
def test_every_setting_is_in_the_env_example(package, example, gunicorn):
    text = (DEPLOY / "env" / example).read_text()
    documented = set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.M))
    gunicorn_vars = set(re.findall(r"""environ\.get\(\s*["']([A-Z_]+)["']""", (DEPLOY / gunicorn).read_text()))
    wanted = (settings_read(package) | gunicorn_vars) - NOT_SETTINGS
    assert wanted - documented == set()
    # and each documented setting (or group of settings) has a comment right above it
    lines = text.splitlines()
    setting = re.compile(r"^#?[A-Z][A-Z0-9_]+=")
    for name in documented:
        index = next(i for i, line in enumerate(lines) if re.match(rf"^#?{name}=", line))
        while index > 0 and setting.match(lines[index - 1]):
            index -= 1
        assert index > 0 and lines[index - 1].startswith("# ") and len(lines[index - 1]) > 8, f"{name}: no comment"


def test_nginx_limits_caches_and_accel_redirect():
    main = (DEPLOY / "nginx" / "main_api.conf").read_text()
    size = re.search(r"client_max_body_size (\d+)m;", main)
    assert size and int(size.group(1)) * 1024 * 1024 >= 6 * 5 * 1024 * 1024 + 1024 * 1024
    images = main.split("location /api/images/", 1)[1].split("}", 1)[0]
    assert "proxy_cache oaf_images;" in images and "$oaf_image_accept" in images
    assert "listen 443 ssl" in main and "ssl_certificate " in main and "return 301 https://" in main
    assert "proxy_set_header X-Request-ID $request_id;" in main
    # slow clients wait at nginx and are timed out there, at most as long as the API would wait
    assert "proxy_request_buffering on;" in main
    assert re.search(r"client_header_timeout (\d+)s;", main) and int(re.search(r"client_header_timeout (\d+)s;",
                                                                               main).group(1)) <= 10
    assert re.search(r"client_body_timeout (\d+)s;", main) and int(re.search(r"client_body_timeout (\d+)s;",
                                                                             main).group(1)) <= 30
    vm = (DEPLOY / "nginx" / "media_vm.conf").read_text()
    accel = vm.split("location /_variants/", 1)[1].split("}", 1)[0]
    assert "internal;" in accel and "alias /var/lib/oaf/media/;" in accel
