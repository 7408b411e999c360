"""``python -m media_vm <command>``: worker, serve, heal, process, migrate, copy-to-bucket, redis-worker, settings."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from media_vm.declarations import MEDIA_VM
from shared.config import SettingError
from shared.data_types import DataType


def _settings():  # type: ignore[no-untyped-def]
    from media_vm.config import Settings

    return Settings.from_env()


#: Said when a command that calls the main API has no key; the second part is for a checkout.
NO_KEY = ("MAIN_API_KEY is not set: {what} cannot call the main API (in a checkout where make run has "
          "run, DJANGO_ENV=dev takes its key from var/dev-secrets.json)")


def cmd_worker(args: argparse.Namespace) -> int:
    from media_vm.exceptions import MainAPIError
    from media_vm.worker import build_worker

    settings = _settings()
    if not settings.main_api_key:
        print(NO_KEY.format(what="the worker"), file=sys.stderr)
        return 2
    worker = build_worker(settings, concurrency=args.concurrency)
    worker.install_signal_handlers()
    try:
        processed = worker.work(burst=args.once, max_jobs=args.max_jobs)
    except MainAPIError as e:
        # only --once gives up on an API it never reached; the long-running worker keeps backing off
        print(f"the main API at {settings.main_api_url} could not be polled: {e}", file=sys.stderr)
        return 1
    logging.getLogger("media_vm").info("worker %s: processed %s images", settings.worker_id, processed)
    return 0


def cmd_heal(args: argparse.Namespace) -> int:
    """One healing cycle, then the images it made due (at most ``HEAL_BATCH``)."""
    import json

    from media_vm.db import migrate
    from media_vm.imaging import configure_libvips
    from media_vm.worker import build_worker

    settings = _settings()
    if not settings.main_api_key:
        print(NO_KEY.format(what="the healer"), file=sys.stderr)
        return 2
    configure_libvips()
    worker = build_worker(settings)
    migrate(worker.repo.engine)
    try:
        report = worker.heal()
        report["retried"] = worker.process_due(settings.heal_batch)
        print(json.dumps(report))
    finally:
        if worker.images is not None:
            worker.images.stop()
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Queue the finished images that lack an output the outputs configuration now has."""
    from media_vm.backfill import BackfillResult, backfill
    from media_vm.db import Repository, make_engine, migrate

    engine = make_engine(_settings().database_url)
    migrate(engine)

    def show(result: BackfillResult, *, done: bool = False) -> None:
        print(f"backfill{' done' if done else ''}: {result.checked} finished image(s) checked, "
              f"{result.missing} missing an output, {result.queued} queued{' (dry run)' if args.dry_run else ''}",
              flush=True)

    result = backfill(Repository(engine), dry_run=args.dry_run, batch=args.batch, progress=show)
    show(result, done=True)
    if not args.dry_run and result.queued:
        print("the workers make the missing outputs and tell the main API; run it again to resume after a stop")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from media_vm.db import make_engine, migrate

    version = migrate(make_engine(_settings().database_url))
    print(f"media DB at schema version {version}")
    return 0


def cmd_process(args: argparse.Namespace) -> int:
    from media_vm.imaging import configure_libvips
    from media_vm.imaging.cli import process_command

    configure_libvips()
    return process_command([Path(f) for f in args.files], Path(args.out), data_type=args.data_type,
                           watermark=args.watermark)


def cmd_copy_to_bucket(args: argparse.Namespace) -> int:
    import json

    from media_vm.db import Repository, make_engine, migrate
    from media_vm.storage import make_storage
    from media_vm.storage.copy import copy_to_bucket
    from media_vm.storage.s3 import S3Storage

    settings = _settings()
    store = make_storage(settings)
    if not isinstance(store, S3Storage):
        print("MEDIA_STORAGE_BACKEND is not s3: set it and MEDIA_S3_* first (README, Scale-out)", file=sys.stderr)
        return 2
    source = Path(args.source) if args.source else settings.storage_root
    engine = make_engine(settings.database_url)
    migrate(engine)
    summary = copy_to_bucket(store, source, Repository(engine), dry_run=args.dry_run)
    print(json.dumps(summary, indent=2))
    return 1 if summary["failed_count"] or (summary["missing_count"] and not args.dry_run) else 0


def cmd_redis_worker(args: argparse.Namespace) -> int:
    """The seed's Redis jobs (``media_vm.seed_redis_worker``) until SIGTERM/SIGINT (or, with
    ``--burst``, until both input lists are empty); prints the counts as JSON at the end."""
    import json

    from media_vm.seed_redis_worker import Queues, RedisWorker, redis_client

    if not args.root:
        print("redis-worker needs --root DIR or REDIS_WORKER_ROOT: every job's paths must lie inside it",
              file=sys.stderr)
        return 2
    try:
        client = redis_client(args.redis, args.db)
        worker = RedisWorker(client, root=Path(args.root), max_retries=args.max_retries, workers=args.workers,
                             queues=Queues.prefixed(args.queue_prefix), max_pixels=_settings().max_image_pixels,
                             retry_delay=args.retry_delay)
    except ValueError as e:
        print(f"redis-worker: {e}", file=sys.stderr)
        return 2
    worker.install_signal_handlers()
    logging.getLogger("media_vm").info("redis-worker: %s thread(s) on %s db %s, root %s", args.workers, args.redis,
                                       args.db, worker.root)
    counts = worker.work(burst=args.burst)
    print(json.dumps(counts))
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Exec gunicorn with the app factory; no pyvips is imported before it forks."""
    if not _settings().accepted_keys:
        print("MAIN_API_KEY is not set: /similar, /metrics and the detail of /health will answer 401 to everyone",
              file=sys.stderr)
    config = Path(__file__).resolve().parent.parent / "deploy" / "gunicorn_media_vm.py"
    argv = [sys.executable, "-m", "gunicorn", "media_vm.http:create_app()", "--bind", f"{args.host}:{args.port}"]
    if config.exists():
        argv += ["--config", str(config)]
    os.execv(sys.executable, argv)
    return 0  # not reached


def cmd_settings(args: argparse.Namespace) -> int:
    """Each declared setting (``media_vm.declarations``), its effective value and its source
    (environment or default), secrets masked; a bad value shows as ``invalid: ...``."""
    from shared.config import report_lines

    print("\n".join(report_lines(MEDIA_VM, os.environ)))
    return 0


def main(argv: list[str] | None = None) -> int:
    from media_vm.logging_setup import configure

    configure()  # LOG_FORMAT=json|text, LOG_LEVEL
    from shared import outputs

    try:  # the outputs configuration (MEDIA_OUTPUTS_FILE, the main API's too), loaded and validated at start
        outputs.start()
    except outputs.OutputsConfigError as e:
        sys.exit(f"python -m media_vm: MEDIA_OUTPUTS_FILE: {e}")
    try:
        setting = {s.name: s.read(os.environ)[0] for s in MEDIA_VM}
    except SettingError as e:
        sys.exit(f"python -m media_vm: {e}")
    parser = argparse.ArgumentParser(prog="python -m media_vm", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("worker", help="poll the main API and process images")
    p.add_argument("--concurrency", type=int, default=setting["WORKER_CONCURRENCY"],
                   help="images processed at once in this process (default: %(default)s)")
    p.add_argument("--once", action="store_true", help="drain what is pending, then exit")
    p.add_argument("--max-jobs", type=int, default=None, help="exit after this many images")
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("serve", help="serve variants, /health and /metrics under gunicorn")
    p.add_argument("--port", type=int, default=setting["PORT"], help="(default: PORT, %(default)s)")
    p.add_argument("--host", default=setting["HOST"], help="(default: HOST, %(default)s)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("heal", help="run one self-healing cycle, then exit")
    p.set_defaults(func=cmd_heal)

    p = sub.add_parser("backfill", help="queue finished images for the sizes and presets added to the outputs file")
    p.add_argument("--dry-run", action="store_true", help="count only")
    p.add_argument("--batch", type=int, default=200, help="images read per page (default: %(default)s)")
    p.set_defaults(func=cmd_backfill)

    p = sub.add_parser("migrate", help="create or upgrade the media DB schema")
    p.set_defaults(func=cmd_migrate)

    p = sub.add_parser("process", help="run the pipeline on local files (no API involved)")
    p.add_argument("files", nargs="+")
    p.add_argument("--out", default="var/process-out", help="output folder (default: %(default)s)")
    p.add_argument("--data-type", default="product", choices=[t.value for t in DataType],
                   help="decides the sizes made (artwork: icon, thumbnail, display) (default: %(default)s)")
    p.add_argument("--watermark", default=None,
                   help="text drawn on the watermarked sizes (an artwork's display) (default: none)")
    p.set_defaults(func=cmd_process)

    p = sub.add_parser("copy-to-bucket", help="copy a local bulk/ and library/ tree into the S3 bucket")
    p.add_argument("--from", dest="source", default=None,
                   help="the local tree (default: MEDIA_STORAGE_ROOT, where the local backend kept it)")
    p.add_argument("--dry-run", action="store_true", help="count what would be copied, copy nothing")
    p.set_defaults(func=cmd_copy_to_bucket)

    p = sub.add_parser("redis-worker", help="make the Redis-queue seed's jobs (image:jobs) with this pipeline")
    p.add_argument("--redis", default="127.0.0.1:6379", help="host:port, or a redis:// URL (default: %(default)s)")
    p.add_argument("--db", type=int, default=0, help="Redis database index (default: %(default)s)")
    p.add_argument("--workers", type=int, default=2, help="jobs made at once (default: %(default)s)")
    p.add_argument("--max-retries", type=int, default=3,
                   help="retries of a failing job before image:failed (default: %(default)s)")
    p.add_argument("--retry-delay", type=float, default=1.0,
                   help="seconds before a failed job's first retry, doubled for each further one "
                        "(default: %(default)s)")
    p.add_argument("--root", default=setting["REDIS_WORKER_ROOT"] or None,
                   help="folder every inputPath and outputDir must lie in (default: REDIS_WORKER_ROOT)")
    p.add_argument("--queue-prefix", default="", help="put before the four list names (default: none)")
    p.add_argument("--burst", action="store_true", help="exit once image:jobs and image:retry are empty")
    p.set_defaults(func=cmd_redis_worker)

    p = sub.add_parser("settings", help="print each setting's effective value and where it came from")
    p.set_defaults(func=cmd_settings)

    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
