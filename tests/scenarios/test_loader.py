"""Loading scenario files: every shipped example loads, bad files say where they are wrong, and
neither the YAML reader nor the templates can be made to run code or blow up."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from emulator.scenarios import ScenarioError, load_scenario, loader, parse_scenario, scenario_from_data
from emulator.scenarios.templates import TemplateError, render, render_value

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "scenarios"
EXAMPLES = sorted(FIXTURES.glob("*.yaml"))


def problem(text: str, name: str = "bad.yaml") -> str:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, source=name)
    return str(caught.value)


def test_there_are_examples_and_all_of_them_load() -> None:
    assert len(EXAMPLES) >= 4
    for path in EXAMPLES:
        scenario = load_scenario(path)
        assert scenario.name == path.stem and scenario.rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "name: s\nrules:\n  - name: greet\n    reply: {txt: hi}\n",
            "bad.yaml: rules[0] \"greet\": reply.txt: unknown field; did you mean 'text'?",
        ),
        (
            "name: s\nrules:\n  - reply: a\n  - name: weather\n    when: {last_user_txt: hi}\n    reply: b\n",
            "bad.yaml: rules[1] \"weather\": when.last_user_txt: unknown field; did you mean 'last_user_text'?",
        ),
        (
            "name: s\nrules:\n  - name: call\n    reply:\n      parts:\n        - function_call: {args: {}}\n",
            'bad.yaml: rules[0] "call": reply.parts[0].function_call.name: Field required',
        ),
        (
            "name: s\nrules:\n  - error: {code: 429, retry_after: soon}\n",
            "bad.yaml: rules[0]: error.retry_after: 'soon' is not a duration",
        ),
        (
            "name: s\nrules:\n  - name: both\n    reply: a\n    block: SAFETY\n",
            'bad.yaml: rules[0] "both": a rule needs one of reply, error or block (found: reply, block)',
        ),
        (
            "name: s\nrules:\n  - reply: a\n    times: 0\n",
            "bad.yaml: rules[0]: times: times must be a positive integer",
        ),
        ("name: s\nunmatched: maybe\n", "bad.yaml: unmatched: Input should be 'error' or 'default'"),
        ("rules: []\n", "bad.yaml: name: Field required"),
        ("name: s\nrulez: []\n", "bad.yaml: rulez: unknown field; did you mean 'rules'?"),
    ],
)
def test_messages_name_the_file_the_rule_and_the_field(text: str, expected: str) -> None:
    assert problem(text).startswith(expected)


def test_every_problem_is_reported_on_its_own_line() -> None:
    text = "name: s\nrules:\n" + "".join(f"  - name: r{i}\n    reply: {{txt: x}}\n" for i in range(3))
    lines = problem(text).splitlines()
    assert lines == [f"bad.yaml: rules[{i}] \"r{i}\": reply.txt: unknown field; did you mean 'text'?" for i in range(3)]


def test_long_error_lists_are_cut() -> None:
    text = "name: s\nrules:\n" + "  - reply: {txt: x}\n" * 30
    lines = problem(text).splitlines()
    assert len(lines) == loader.MAX_REPORTED + 1 and lines[-1] == "... and 10 more"


def test_yaml_syntax_errors_give_line_and_column() -> None:
    message = problem("name: s\nrules:\n  - reply: [unclosed\n")
    assert message.startswith("bad.yaml:4:1: invalid YAML")


def test_a_file_must_be_a_mapping() -> None:
    assert "a scenario is a mapping" in problem("- just\n- a list\n")
    assert "a scenario is a mapping" in problem("")


def test_json_files_load_and_report_positions(tmp_path: Path) -> None:
    good = tmp_path / "s.json"
    good.write_text(json.dumps({"name": "j", "rules": [{"reply": "hi"}]}))
    assert load_scenario(good).rules[0].reply.text == "hi"  # type: ignore[union-attr]
    bad = tmp_path / "bad.json"
    bad.write_text('{"name": "j",\n "rules": [}')
    with pytest.raises(ScenarioError, match=r"bad\.json:2:12: invalid JSON"):
        load_scenario(bad)


def test_missing_file_is_a_scenario_error(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read scenario"):
        load_scenario(tmp_path / "absent.yaml")


def test_oversized_files_are_refused_before_reading(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_text("name: s\ndescription: " + "x" * loader.MAX_BYTES + "\n")
    with pytest.raises(ScenarioError, match=r"big\.yaml: scenario file is \d+ bytes; the limit is 1048576"):
        load_scenario(big)
    with pytest.raises(ScenarioError, match="the limit is"):
        parse_scenario(big.read_text())


def test_a_few_aliases_are_fine() -> None:
    text = "name: s\nrules:\n  - &r {reply: hi, times: unlimited}\n" + "  - *r\n" * loader.MAX_ALIASES
    assert len(parse_scenario(text).rules) == loader.MAX_ALIASES + 1


def test_billion_laughs_is_refused_quickly() -> None:
    levels = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    levels += [f"a{i}: &a{i} [{','.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 9)]
    started = time.monotonic()
    message = problem("\n".join(["name: s", *levels]) + "\n")
    assert "YAML aliases; at most 8 are allowed" in message
    assert time.monotonic() - started < 2


@pytest.mark.parametrize(
    "text",
    [
        "name: !!python/object/apply:os.system ['echo pwned']\n",
        "name: !!python/name:os.system\n",
        "name: !custom x\n",
    ],
)
def test_yaml_tags_cannot_build_python_objects(text: str) -> None:
    assert "invalid YAML" in problem(text)


@pytest.mark.parametrize(
    "template",
    [
        "{{ __import__('os').system('echo pwned') }}",
        "{{ ''.__class__ }}",
        "{{ model | upper }}",
        "{{ os.environ }}",
        "{{ model() }}",
    ],
)
def test_templates_that_are_not_plain_paths_are_rejected_at_load(template: str) -> None:
    message = problem(f'name: s\nrules:\n  - name: t\n    reply: "{template}"\n')
    assert message.startswith('bad.yaml: rules[0] "t": reply.text:')


def test_template_paths_reach_only_dict_keys_and_list_items() -> None:
    context = {"model": "gemini", "function_response": {"f": {"items": [1, {"a": "b"}]}}}
    assert render("{{ function_response.f.items.1.a }}", context) == "b"
    for path in ("model.__class__", "function_response.f.__class__", "function_response.f.items.9"):
        with pytest.raises(TemplateError):
            render("{{ " + path + " }}", context)


def test_inserted_request_text_is_never_expanded_again() -> None:
    context = {"last_user_text": "{{ model }} and {{ __import__('os') }}", "model": "gemini"}
    assert render("You said: {{ last_user_text }}", context) == "You said: {{ model }} and {{ __import__('os') }}"


def test_whole_placeholders_keep_their_type_inside_values() -> None:
    context = {"turn": 3, "function_response": {"f": {"n": [1, 2]}}}
    value = {"turn": "{{ turn }}", "text": "turn {{ turn }}", "list": ["{{ function_response.f.n }}"]}
    assert render_value(value, context) == {"turn": 3, "text": "turn 3", "list": [[1, 2]]}


def test_data_that_is_already_parsed_is_validated_the_same_way() -> None:
    with pytest.raises(ScenarioError, match=r"<posted>: rules\[0\]: reply.txt: unknown field"):
        scenario_from_data({"name": "s", "rules": [{"reply": {"txt": "x"}}]}, source="<posted>")
    with pytest.raises(ScenarioError, match="a scenario is a mapping"):
        scenario_from_data(["not", "a", "mapping"])
