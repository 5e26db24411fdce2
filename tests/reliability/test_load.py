"""Load: many concurrent multi-turn streaming chats through the real async SDK (``client.aio.chats``),
each with its own API key (so its own context) and its own scenario naming that context, so that
any answer, history or journal entry reaching the wrong session is caught.

Half the sessions are Vertex AI clients: a quarter on a project with a bearer token of their own, a
quarter in express mode with an ``AQ.`` key of their own; their journals must hold Vertex AI calls.

``GEMINI_LOAD_SESSIONS`` (default 128) and ``GEMINI_LOAD_TURNS`` (default 4) make it bigger.
"""

from __future__ import annotations

import asyncio
import json
import os
import ssl
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials
from reliability_support import (
    EXPRESS_GENERATE,
    GENERATE,
    MODEL,
    VERTEX_GENERATE,
    VERTEX_LOCATION,
    VERTEX_PROJECT,
    Figures,
    LogWatch,
    control_as,
    describe,
)

from emulator import EmulatorThread

SESSIONS = int(os.environ.get("GEMINI_LOAD_SESSIONS", "128"))
TURNS = int(os.environ.get("GEMINI_LOAD_TURNS", "4"))


def scenario(session: int) -> dict[str, object]:
    """This session's script: every streamed answer names the session, its turn and what it heard."""
    return {
        "name": f"load session {session}",
        "rules": [
            {
                "name": "echo",
                "times": "unlimited",
                "when": {"stream": True},
                "reply": {
                    "text": f"session-{session} turn {{{{ turn }}}} heard: {{{{ last_user_text }}}}",
                    "stream": {"split": "words", "size": 2},
                },
            }
        ],
    }


def message(session: int, turn: int, nonce: str) -> str:
    return f"from session-{session} message {turn} nonce {nonce}"


def expected(session: int, turn: int, nonce: str) -> str:
    return f"session-{session} turn {turn} heard: {message(session, turn, nonce)}"


FLAVOURS = ("developer", "vertex", "developer", "express")
"""Session ``i`` is a client of ``FLAVOURS[i % 4]``."""
ROUTE_OF = {"developer": GENERATE, "vertex": VERTEX_GENERATE, "express": EXPRESS_GENERATE}


@dataclass
class Session:
    index: int
    key: str
    """Its credential's name: its API key, its bearer token, or (``AQ.key``) its express key."""
    nonce: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    answers: list[str] = field(default_factory=list)
    chunks: int = 0
    history: list[types.Content] = field(default_factory=list)

    @property
    def flavour(self) -> str:
        return FLAVOURS[self.index % len(FLAVOURS)]

    @property
    def route(self) -> str:
        return ROUTE_OF[self.flavour]


def turn_texts(history: list[types.Content]) -> list[str]:
    """The text of each turn; a streamed answer is kept in the history as one content per chunk."""
    turns: list[tuple[str | None, str]] = []
    for content in history:
        text = "".join(p.text or "" for p in (content.parts or []))
        if turns and turns[-1][0] == content.role:
            turns[-1] = (content.role, turns[-1][1] + text)
        else:
            turns.append((content.role, text))
    return [text for _, text in turns]


@pytest.fixture(scope="module")
def emu(figures: Figures) -> Iterator[EmulatorThread]:
    logs = LogWatch().install()
    try:
        with EmulatorThread() as emu:
            yield emu
    finally:
        logs.remove()
    tracebacks = logs.tracebacks()
    figures.add("tracebacks", len(tracebacks))
    assert not logs.errors(), describe(logs.errors())


# One TLS context for every client, as an application would share it: unused on loopback http, but
# building three per client (what google-genai does unless given one) costs ~50 ms each time.
_TLS = ssl.create_default_context()


def client_for(url: str, session: Session) -> genai.Client:
    options = types.HttpOptions(
        base_url=url, timeout=60_000, async_client_args={"ssl": _TLS}, client_args={"verify": _TLS}
    )
    if session.flavour == "vertex":
        credentials = Credentials(token=session.key)  # type: ignore[no-untyped-call]
        return genai.Client(
            vertexai=True, project=VERTEX_PROJECT, location=VERTEX_LOCATION, credentials=credentials,
            http_options=options,
        )  # fmt: skip
    if session.flavour == "express":
        return genai.Client(vertexai=True, api_key=f"AQ.{session.key}", http_options=options)
    return genai.Client(api_key=session.key, http_options=options)


async def converse(client: genai.Client, session: Session) -> None:
    try:
        chat = client.aio.chats.create(model=MODEL)
        for turn in range(1, TURNS + 1):
            text = ""
            async for chunk in await chat.send_message_stream(message(session.index, turn, session.nonce)):
                text += chunk.text or ""
                session.chunks += 1
            session.answers.append(text)
        session.history = chat.get_history()
    finally:
        await client.aio.aclose()


def test_concurrent_streaming_chats_never_cross(emu: EmulatorThread, figures: Figures) -> None:
    sessions = [Session(i, f"load-{i}-{uuid.uuid4().hex}") for i in range(SESSIONS)]
    for session in sessions:
        control_as(emu.url, session.route, "PUT", "scenario", session.key, json.dumps(scenario(session.index)).encode())

    clients = [client_for(emu.url, s) for s in sessions]

    async def run() -> list[BaseException | None]:
        return await asyncio.gather(
            *(converse(c, s) for c, s in zip(clients, sessions, strict=True)), return_exceptions=True
        )

    started = time.monotonic()
    outcomes = asyncio.run(run())
    elapsed = time.monotonic() - started

    errors = [o for o in outcomes if isinstance(o, BaseException)]
    cross_talk = []
    for session in sessions:
        want = [expected(session.index, t, session.nonce) for t in range(1, TURNS + 1)]
        if session.answers != want:
            cross_talk.append((session.index, "answers", session.answers))
        mine = f"session-{session.index} "
        texts = turn_texts(session.history)
        if len(texts) != 2 * TURNS or any(mine not in t for t in texts):
            cross_talk.append((session.index, "history", texts))
        journal = control_as(emu.url, session.route, "GET", "requests", session.key)["requests"]
        seen = json.dumps(journal)
        others = [i for i in range(SESSIONS) if i != session.index and f"session-{i} " in seen]
        if len(journal) != TURNS or others or any(e["reply"]["text"] not in want for e in journal):
            cross_talk.append((session.index, "journal", others, [e["reply"] for e in journal]))
        flavour = "developer" if session.flavour == "developer" else "vertex"
        if any(e["flavour"] != flavour for e in journal):
            cross_talk.append((session.index, "flavour", flavour, [e["flavour"] for e in journal]))
    turns = SESSIONS * TURNS
    chunks = sum(s.chunks for s in sessions)
    figures.set("load.sessions", SESSIONS)
    on_vertex = sum(s.flavour != "developer" for s in sessions)
    figures.set("load.sessions.vertex", on_vertex)
    figures.set("load.turns", TURNS)
    figures.set("load.turns_per_second", turns / elapsed)
    figures.set("load.chunks_per_second", chunks / elapsed)
    figures.add("load.errors", len(errors))
    figures.add("load.cross_talk", len(cross_talk))
    print(
        f"\nload: {SESSIONS} sessions ({on_vertex} Vertex AI) x {TURNS} turns in {elapsed:.2f} s: "
        f"{turns / elapsed:.0f} turns/s, {chunks / elapsed:.0f} chunks/s"
    )
    assert not errors, errors[:3]
    assert not cross_talk, cross_talk[:3]
