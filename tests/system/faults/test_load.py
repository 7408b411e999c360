"""200 uploads from 20 concurrent clients (a second process on loopback), then two worker
processes: every upload answered, no 5xx, every image processed exactly once."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.helpers import images
from tests.helpers.processes import ROOT, reaped

UPLOADS, CLIENTS = 200, 20


def test_two_hundred_uploads_from_twenty_clients(fresh_system, tmp_path):
    with fresh_system(GUNICORN_WORKERS=3) as system:
        tokens = json.loads(system.manage("shell", "-c", (
            "import json; from main_api.users.services import user_create; "
            "from rest_framework.authtoken.models import Token; "
            f"print(json.dumps([Token.objects.get_or_create(user=user_create(username=f'load{{i}}', "
            f"user_type='community'))[0].key for i in range({CLIENTS})]))")).strip().splitlines()[-1])
        files = [str(images.photo_jpeg(tmp_path / f"l{i}.jpg", 480, 320, quality=80, seed=i + 1)) for i in range(8)]
        job = {"url": f"{system.api_url}/users/me", "tokens": tokens, "files": files, "uploads": UPLOADS,
               "clients": CLIENTS}
        load = subprocess.run([sys.executable, "-m", "tests.system.faults.load_client"], cwd=ROOT,
                              input=json.dumps(job), capture_output=True, text=True, timeout=400)
        assert load.returncode == 0, load.stderr[-2000:]
        summary = json.loads(load.stdout)
        assert summary["statuses"] == {"200": UPLOADS}, summary
        print("load:", summary)

        workers = [subprocess.Popen([sys.executable, "-m", "media_vm", "worker", "--once", "--concurrency", "2"],
                                    cwd=ROOT, env={**system.env, "WORKER_ID": f"load-w{n}"},
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                    start_new_session=True) for n in range(2)]
        with reaped(*workers):
            outputs = [w.communicate(timeout=900)[0] for w in workers]
        assert [w.returncode for w in workers] == [0, 0], [o[-2000:] for o in outputs]
        assert "HTTP 5" not in "".join(outputs), "the main API answered a worker with a 5xx"
        rows = system.media_rows()
        assert len(rows) == UPLOADS and len({r["main_api_id"] for r in rows}) == UPLOADS
        assert {r["status"] for r in rows} == {"done"}
        from sqlalchemy import select

        from media_vm.db import processing_checklist
        with system.engine.connect() as conn:
            retried = conn.execute(select(processing_checklist).where(processing_checklist.c.attempts > 1)).all()
        # a retry is allowed (a busy host may time out a call) but rare; the outcome is what
        # must be exactly once: one row, one media id, one processed upload each
        assert len(retried) <= UPLOADS // 20, f"retries should be rare: {[(r.step, r.last_error) for r in retried]}"
        assert system.pending() == []
        assert len({r["media_id"] for r in rows}) == UPLOADS
        processed = json.loads(system.manage("shell", "-c", (
            "import json; from main_api.media.models import Upload as P; "
            "print(json.dumps([P.objects.filter(status='complete').count(), "
            "P.objects.exclude(media_id=None).values('media_id').distinct().count()]))")).strip().splitlines()[-1])
        assert processed == [UPLOADS, UPLOADS]
