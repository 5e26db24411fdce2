#!/usr/bin/env python3
"""Records the example cassettes in fixtures/cassettes/ from a SCRIPTED upstream, not the real API.

The upstream is an emulator playing a scenario of fixtures/scenarios/; a second emulator records
what the SDK exchanges with it, exactly as it would record the real service. Run it again after
changing a scenario or the conversation below; ``sdk_tests/test_fixture_cassettes.py`` replays the
committed files and checks that the SDK sees what the scripted upstream says.

    python tools/record_fixture_cassettes.py [--out fixtures/cassettes]
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODEL = "gemini-2.5-flash"


def chat(client: Any) -> list[Any]:
    session = client.chats.create(model=MODEL)
    seen = [session.send_message("Hi there").text, session.send_message("My name is Ada").text]
    seen.append([c.text for c in session.send_message_stream("What is the meaning of life?")])
    seen.append([(c.role, [p.text for p in c.parts or []]) for c in session.get_history(curated=True)])
    return seen


def weather_tools(client: Any) -> list[Any]:
    from google.genai import types

    def get_weather(city: str) -> str:
        """The current weather in a city."""
        return f"sunny and 21 degrees in {city}"

    config = types.GenerateContentConfig(tools=[get_weather])
    response = client.models.generate_content(model=MODEL, contents="What is the weather in Paris?", config=config)
    return [response.text, len(response.automatic_function_calling_history or [])]


# name -> (scenario the scripted upstream plays, the conversation the SDK has)
CONVERSATIONS: dict[str, tuple[str, Callable[[Any], list[Any]]]] = {
    "chat": ("chat.yaml", chat),
    "weather_tools": ("weather_tools.yaml", weather_tools),
}
NOTE = "Recorded from gemini-emulator playing fixtures/scenarios/{scenario} (a scripted upstream), not the real API."


def record(name: str, out: Path) -> list[Any]:
    """Records one conversation into ``out/NAME.yaml`` (replacing it) and returns what the SDK saw."""
    from google import genai

    from emulator import EmulatorThread, Settings
    from emulator.backends.scripted import ScriptedBackend
    from emulator.cassette import load, save
    from emulator.scenarios.loader import load_scenario

    scenario, conversation = CONVERSATIONS[name]
    path = out / f"{name}.yaml"
    backend = ScriptedBackend(load_scenario(ROOT / "fixtures" / "scenarios" / scenario))
    with EmulatorThread(backend=backend) as upstream:
        with EmulatorThread(Settings(port=0, cassette=path, record_mode="all", upstream=upstream.url)) as recorder:
            client = genai.Client(api_key="fixture-recording-key", http_options={"base_url": recorder.url})
            seen = conversation(client)
        cassette = load(path)
        cassette.metadata["note"] = NOTE.format(scenario=scenario)
        for interaction in cassette.interactions:
            path_part = interaction.request.uri.removeprefix(upstream.url)
            interaction.request.uri = "http://scripted-upstream.invalid" + path_part
            for event in interaction.response.events or ():
                event.delay = None  # timing of a local upstream says nothing; keep the files stable
        save(cassette, path)
    return seen


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=ROOT / "fixtures" / "cassettes")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for name in CONVERSATIONS:
        record(name, args.out)
        print(f"recorded {args.out / name}.yaml")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
