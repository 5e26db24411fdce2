"""Cassette writes survive a full disk and kills at any moment: the file is whole, old or new, never torn."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from reliability_support import Figures

from emulator.cassette import load, save
from emulator.cassette.model import Cassette, Interaction, RecordedRequest, RecordedResponse
from emulator.cassette.store import CassetteError

URI = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash:generateContent"


def interaction(n: int, size: int = 10) -> Interaction:
    return Interaction(
        request=RecordedRequest(method="POST", uri=URI, body={"contents": [{"parts": [{"text": f"q{n} " * size}]}]}),
        response=RecordedResponse(body={"candidates": [{"content": {"role": "model", "parts": [{"text": f"a{n}"}]}}]}),
    )


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=cwd, capture_output=True, text=True)


def test_a_full_disk_during_a_write_leaves_the_old_cassette_whole(tmp_path: Path, figures: Figures) -> None:
    path = tmp_path / "c.yaml"
    save(Cassette(interactions=[interaction(0)]), path)
    before = path.read_bytes()
    limit = len(before) + 2048  # the process may not write a file larger than this: a disk that fills up
    result = run(
        f"""
        import resource, signal
        from pathlib import Path
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, ({limit}, {limit}))
        from emulator.cassette import append
        from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse
        big = Interaction(request=RecordedRequest(method="POST", uri="{URI}", body={{"text": "x" * 100000}}),
                          response=RecordedResponse(body={{"ok": True}}))
        try:
            append(Path("c.yaml"), [big])
        except OSError as exc:
            print("refused:", exc.errno)
        """,
        tmp_path,
    )
    assert "refused: 27" in result.stdout, result.stderr  # EFBIG
    if path.read_bytes() != before:
        figures.add("cassette.torn")
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")] == []
    figures.add("cassette.disk_full")


WRITER = f"""
import sys
from pathlib import Path
from emulator.cassette import append
from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse
n = 0
while True:
    n += 1
    body = {{"contents": [{{"parts": [{{"text": f"q{{n}} " * 50}}]}}]}}
    append(Path("c.yaml"), [Interaction(request=RecordedRequest(method="POST", uri="{URI}", body=body),
                                        response=RecordedResponse(body={{"n": n}}))])
    print(n, flush=True)
"""


def test_kills_during_writes_never_tear_the_cassette(tmp_path: Path, figures: Figures) -> None:
    rng = random.Random(7)
    recorded = 0
    cycles = 12
    for _ in range(cycles):
        writer = subprocess.Popen([sys.executable, "-c", WRITER], cwd=tmp_path, stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None
        writer.stdout.readline()  # it has written at least once
        time.sleep(rng.uniform(0.0, 0.3))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        try:
            cassette = load(tmp_path / "c.yaml")  # whole: it loads, and nothing acknowledged was lost
        except CassetteError:
            figures.add("cassette.torn")
            raise
        if len(cassette.interactions) <= recorded:
            figures.add("cassette.torn")
        assert len(cassette.interactions) > recorded
        recorded = len(cassette.interactions)
        assert [i.response.body["n"] for i in cassette.interactions][-1] >= 1  # type: ignore[index]
    figures.add("cassette.kill_cycles", cycles)
