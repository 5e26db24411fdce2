"""Cassettes and bodies the cassette tests share, shaped like real google-genai traffic."""

from __future__ import annotations

from typing import Any

from emulator.cassette.model import Cassette, Event, Interaction, RecordedRequest, RecordedResponse

BASE = "https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash"
JSON = {"content-type": ["application/json; charset=UTF-8"]}
SSE = {"content-type": ["text/event-stream"], "content-disposition": ["attachment"]}


def prompt(*texts: str) -> dict[str, Any]:
    """A chat whose user turns are ``texts`` and whose model turns answer with 'ok'."""
    contents: list[dict[str, Any]] = []
    for i, text in enumerate(texts):
        if i:
            contents.append({"role": "model", "parts": [{"text": "ok"}]})
        contents.append({"role": "user", "parts": [{"text": text}]})
    return {"contents": contents}


def answer(text: str, finish: str | None = "STOP") -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"role": "model", "parts": [{"text": text}]}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "modelVersion": "gemini-2.5-flash", "responseId": "r1"}


def unary(text: str, reply: str = "4", uri: str = BASE + ":generateContent") -> Interaction:
    return Interaction(
        request=RecordedRequest(
            method="POST", uri=uri, headers={"content-type": ["application/json"]}, body=prompt(text)
        ),
        response=RecordedResponse(headers=dict(JSON), body=answer(reply)),
    )


def streamed(text: str, chunks: tuple[str, ...] = ("To ", "find"), complete: bool = True) -> Interaction:
    events = [
        Event(data=answer(chunk, "STOP" if i == len(chunks) - 1 else None), delay=0.1 * (i + 1))
        for i, chunk in enumerate(chunks)
    ]
    return Interaction(
        request=RecordedRequest(method="POST", uri=BASE + ":streamGenerateContent?alt=sse", body=prompt(text)),
        response=RecordedResponse(headers=dict(SSE), events=events, complete=complete),
    )


def error(text: str, code: int = 429, status: str = "RESOURCE_EXHAUSTED") -> Interaction:
    body = {"error": {"code": code, "message": "Resource has been exhausted.", "status": status}}
    return Interaction(
        request=RecordedRequest(method="POST", uri=BASE + ":generateContent", body=prompt(text)),
        response=RecordedResponse(status=code, message="Too Many Requests", headers=dict(JSON), body=body),
    )


def sample() -> Cassette:
    return Cassette(
        interactions=[
            unary("What is 2+2?"),
            streamed("Count"),
            error("Again"),
            Interaction(
                request=RecordedRequest(method="GET", uri=BASE),
                response=RecordedResponse(headers={"content-type": ["text/plain"]}, raw="not json\n"),
            ),
        ],
        metadata={"recorded_with": "tests"},
    )
