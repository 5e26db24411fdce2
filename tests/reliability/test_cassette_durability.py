"""Cassette writes survive a full disk and kills at any moment: the file is whole, old or new, never
torn, and every interaction a writer acknowledged (an append that returned, an answer a client got
whole from a recording server) is there exactly once, whatever was journaled or half-folded."""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

from reliability_support import GENERATE, SSE, Figures, ServerProcess, call

from emulator import EmulatorThread
from emulator.cassette import compact, derived_form, load, save
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
    assert [p.name for p in tmp_path.iterdir()] == ["c.yaml"]  # no temporary file, journal or lock left
    figures.add("cassette.disk_full")


WRITER = f"""
import sys
from pathlib import Path
from emulator.cassette import append
from emulator.cassette.model import Interaction, RecordedRequest, RecordedResponse
cycle, n = int(sys.argv[1]), 0
while True:
    n += 1
    body = {{"contents": [{{"parts": [{{"text": f"q{{n}} " * 50}}]}}]}}
    append(Path("c.yaml"), [Interaction(request=RecordedRequest(method="POST", uri="{URI}", body=body),
                                        response=RecordedResponse(body={{"cycle": cycle, "n": n}}))])
    print(n, flush=True)
"""


def acknowledged_exactly_once(found: list[tuple[int, int]], acked: dict[int, int], figures: Figures) -> None:
    """Each cycle's interactions are 1..k, k its last acknowledged one or the one after (written, but
    killed before saying so): none lost, none twice, in order."""
    for cycle, last in acked.items():
        mine = [n for c, n in found if c == cycle]
        if mine not in (list(range(1, last + 1)), list(range(1, last + 2))):
            figures.add("cassette.torn")
            raise AssertionError(f"cycle {cycle}: acknowledged 1..{last}, the cassette holds {mine[:5]}...{mine[-5:]}")


def test_kills_during_writes_never_tear_the_cassette_nor_lose_an_acknowledged_append(
    tmp_path: Path, figures: Figures
) -> None:
    rng = random.Random(7)
    cycles, acked = 16, {}
    for cycle in range(cycles):
        command = [sys.executable, "-c", WRITER, str(cycle)]
        writer = subprocess.Popen(command, cwd=tmp_path, stdout=subprocess.PIPE, text=True)
        assert writer.stdout is not None
        writer.stdout.readline()  # it has written at least once
        time.sleep(rng.uniform(0.0, 0.4))
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait(timeout=10)
        acked[cycle] = 1 + len(writer.stdout.read().split())
        try:
            cassette = load(tmp_path / "c.yaml")  # whole: it loads, with the journal a kill left
        except CassetteError:
            figures.add("cassette.torn")
            raise
        bodies = [i.response.body for i in cassette.interactions]
        acknowledged_exactly_once([(b["cycle"], b["n"]) for b in bodies], acked, figures)  # type: ignore[index, call-overload]
    compact(tmp_path / "c.yaml")
    # Folding leaves nothing else, stale temps included; only the index, when the cassette is big
    # enough to get one, and then it matches the folded bytes.
    index_beside = (tmp_path / "c.yaml").stat().st_size >= derived_form.INDEX_MIN_BYTES
    expected = ["c.yaml", "c.yaml.index"] if index_beside else ["c.yaml"]
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    if index_beside:
        header, _ = derived_form.read_index(tmp_path / "c.yaml.index")  # type: ignore[misc]
        assert header["sha256"] == hashlib.sha256((tmp_path / "c.yaml").read_bytes()).hexdigest()
    assert sum(acked.values()) <= len(load(tmp_path / "c.yaml").interactions) <= sum(acked.values()) + cycles
    figures.add("cassette.kill_cycles", cycles)


def record_until_killed(server: ServerProcess, cycle: int, seconds: float) -> list[str]:
    """Calls the recorder one after another (unary and streamed) until it is killed; returns the
    prompts whose answers arrived whole, the interactions it acknowledged."""
    acked: list[str] = []
    killer = threading.Timer(seconds, os.kill, (server.pid, signal.SIGKILL))
    killer.start()
    try:
        for n in range(100000):
            prompt = f"cycle {cycle} call {n}"
            path = SSE if n % 3 == 2 else GENERATE
            try:
                answer = call(server.url, "POST", path, {"contents": [{"parts": [{"text": prompt}]}]}, key="k" * 39)
            except OSError:
                break
            if answer.status != 200 or answer.corrupt or (path == SSE and b"finishReason" not in answer.body):
                break
            acked.append(prompt)
    finally:
        killer.join()
    return acked


def test_kill_9_while_recording_loses_no_acknowledged_interaction(tmp_path: Path, figures: Figures) -> None:
    """``serve --record`` killed at a random moment, again and again into the same cassette: each time
    it loads, whole, with every answer a client got complete, once."""
    rng, path, everything = random.Random(11), tmp_path / "c.yaml", []
    with EmulatorThread() as upstream:
        for cycle in range(5):
            server = ServerProcess("--record", str(path), "--upstream", upstream.url, cwd=str(tmp_path))
            acked = record_until_killed(server, cycle, rng.uniform(0.3, 1.5))
            server.stop()
            everything += acked
            try:
                texts = [i.request.body["contents"][0]["parts"][0]["text"] for i in load(path).interactions]
            except CassetteError:
                figures.add("cassette.torn")
                raise
            missing = [p for p in everything if p not in texts]
            twice = {t for t in texts if texts.count(t) > 1}
            if missing or twice:
                figures.add("cassette.torn")
            assert not missing and not twice, (missing[:3], sorted(twice)[:3])
            assert len(texts) <= len(everything) + cycle + 1  # at most one written but never answered per kill
    assert len(everything) > 20
    figures.add("cassette.kill_cycles", 5)
