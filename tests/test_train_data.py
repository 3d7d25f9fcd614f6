"""minagent.train's data: generated tasks, real agent trajectories, tokens and the loss mask.

No PyTorch here: the tokenizer is llama.cpp's, reading only the vocabulary of the embedded
GGUF file, so these run with the base install.
"""

import json
import sys
from dataclasses import replace

import pytest

from minagent.agents import DEFAULT_CODE_PREFILL, extract_code
from minagent.templates import render
from minagent.tools import parse_tool_calls
from minagent.train.render import (
    embedded_template,
    encode,
    llama_tokenizer,
    text_pieces,
    trajectory_example,
    vocabulary,
)
from minagent.train.tasks import (
    HELD_OUT_FAMILIES,
    TRAIN_FAMILIES,
    chains,
    make_tasks,
)
from minagent.train.toolbox import HELD_OUT_TOOLS, TOOLS, TRAIN_TOOLS
from minagent.train.trajectories import (
    TrajectoryError,
    code_reply,
    code_trajectory,
    make_trajectories,
    tool_trajectory,
)


@pytest.fixture(scope="module")
def train_tasks():
    return make_tasks("train", 90, seed=0)


@pytest.fixture(scope="module")
def trajectories(train_tasks):
    return make_trajectories(train_tasks)


@pytest.fixture(scope="module")
def template():
    return embedded_template()


@pytest.fixture(scope="module")
def vocab():
    llm = vocabulary()
    yield llm
    llm.close()


def test_the_vocabulary_loads_without_a_warning_on_stderr(capfd):
    """A vocabulary-only model has no training context length, and llama.cpp warns of a
    context overflow on stderr from C code; in unit 08 that warning reached the notebook."""
    assert llama_tokenizer()("<|im_end|>") == [2]
    assert capfd.readouterr().err == ""
    print("still", file=sys.stderr)
    assert capfd.readouterr().err == "still\n"


@pytest.fixture(scope="module")
def tokenize(vocab):
    return lambda text: vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True)


@pytest.fixture(scope="module")
def decode(vocab):
    return lambda ids: vocab.detokenize(ids, special=True).decode("utf-8")


def test_tasks_are_reproducible_from_the_seed():
    assert make_tasks("train", 20, seed=3) == make_tasks("train", 20, seed=3)
    assert make_tasks("train", 20, seed=3) != make_tasks("train", 20, seed=4)


def test_every_family_is_represented(train_tasks):
    assert {task.family for task in train_tasks} == set(TRAIN_FAMILIES)


def test_held_out_tasks_use_no_training_family_or_tool():
    held_out = make_tasks("held_out", 60, seed=0)
    train = make_tasks("train", 300, seed=0)
    assert not {t.question for t in held_out} & {t.question for t in train}
    for task in held_out:
        uses_held_out_tool = bool(set(task.tools) & set(HELD_OUT_TOOLS))
        assert task.family in HELD_OUT_FAMILIES or uses_held_out_tool
    assert not {name for t in train for name in t.tools} & set(HELD_OUT_TOOLS)
    assert not set(TRAIN_TOOLS) & set(HELD_OUT_TOOLS)


def test_every_program_starts_where_the_code_prefill_ends(train_tasks):
    prefill_code = DEFAULT_CODE_PREFILL.removeprefix("```python\n")
    assert all(p.startswith(prefill_code) for task in train_tasks for p in task.programs)


def test_a_trajectory_is_the_real_agent_conversation(trajectories):
    trajectory = next(t for t in trajectories if t.task.family == "observe" and t.agent == "code")
    roles = [m.role for m in trajectory.messages]
    assert roles == ["system", "user", "assistant", "user", "assistant"]
    first_tool, key = trajectory.task.programs[0].removeprefix("result = ").split('("')
    assert f"{first_tool}(" in trajectory.messages[0].content
    assert trajectory.messages[1].content.startswith(trajectory.task.question)
    looked_up = TOOLS[first_tool](key.split('"')[0])
    assert trajectory.messages[3].content == f"Observation:\n{looked_up}"
    assert f'("{looked_up}")' in trajectory.task.programs[1]  # the second call uses it
    assert trajectory.learn == [False, False, True, False, True]


def test_observe_tasks_chain_different_tools():
    """Two-step tasks of one shape only (the capital's hotel price) taught one question,
    not the skill: the training chains go through several pairs of tools."""
    assert {("get_capital", "get_hotel_price"), ("get_team", "get_score")} <= set(
        chains(TRAIN_TOOLS)
    )
    observe = [t for t in make_tasks("train", 300, seed=0) if t.family == "observe"]
    first_tools = {task.programs[0].removeprefix("result = ").split("(")[0] for task in observe}
    assert len(first_tools) >= 3
    held_out = [t for t in make_tasks("held_out", 60, seed=0) if t.family == "observe"]
    assert all(set(t.tools) - {"get_capital"} <= set(HELD_OUT_TOOLS) for t in held_out)


def test_code_replies_parse_as_actions_that_end_with_final_answer(trajectories):
    for trajectory in (t for t in trajectories if t.agent == "code"):
        replies = [m.content for m in trajectory.messages if m.role == "assistant"]
        codes = [extract_code(reply) for reply in replies]
        assert codes == list(trajectory.task.programs)
        assert "final_answer(" in codes[-1]


def test_json_replies_parse_as_tool_calls(trajectories):
    json_ones = [t for t in trajectories if t.agent == "tool"]
    assert json_ones
    for trajectory in json_ones:
        replies = [m.content for m in trajectory.messages if m.role == "assistant"]
        calls = [parse_tool_calls(reply) for reply in replies]
        assert all(len(c) == 1 for c in calls)
        assert calls[-1][0].name == "final_answer"
        assert calls[-1][0].arguments["answer"] == trajectory.task.answer
        assert json.loads(replies[0])["name"] in trajectory.task.tools


def test_a_failing_first_attempt_is_kept_but_not_learned(trajectories):
    trajectory = next(t for t in trajectories if t.task.family == "fix")
    assert trajectory.messages[3].content.startswith("Error: ")
    assert trajectory.learn == [False, False, False, False, True]


def test_a_program_that_goes_off_script_is_refused(train_tasks):
    task = next(t for t in train_tasks if t.family == "arithmetic")
    with pytest.raises(TrajectoryError, match="expected"):
        code_trajectory(replace(task, answer="something else"))
    with pytest.raises(TrajectoryError, match="no JSON calls"):
        tool_trajectory(task)


def test_pieces_join_to_the_rendered_conversation(trajectories, template):
    text, eos = template
    for trajectory in trajectories[:30]:
        pieces = text_pieces(text, trajectory.messages, trajectory.learn, DEFAULT_CODE_PREFILL)
        assert "".join(piece for piece, _ in pieces) == render(text, trajectory.messages)


def test_the_mask_covers_exactly_the_learned_assistant_turns(
    trajectories, template, tokenize, decode
):
    text, eos = template
    for trajectory in trajectories[:40]:
        example = trajectory_example(trajectory, text, tokenize, eos)
        assert len(example.ids) == len(example.learn)
        # Token by token: the learned tokens spell the learned turns, each ending in <|im_end|>.
        learned = "".join(
            decode([t]) for t, flag in zip(example.ids, example.learn, strict=True) if flag
        )
        expected = "".join(
            m.content + eos
            for m, flag in zip(trajectory.messages, trajectory.learn, strict=True)
            if flag
        )
        assert learned == expected
        # And every other token is context: the whole sequence is the rendered text.
        assert decode(example.ids) == render(text, trajectory.messages)


def test_turns_are_tokenized_as_the_prefilled_prompt_is(trajectories, template, tokenize):
    text, eos = template
    trajectory = next(t for t in trajectories if t.agent == "code" and t.task.tools)
    example = trajectory_example(trajectory, text, tokenize, eos)
    prompt = render(text, trajectory.messages[:2], add_generation_prompt=True)
    # What llama.cpp reads at inference: the prompt and the prefill, tokenized as one string.
    at_inference = tokenize(prompt + DEFAULT_CODE_PREFILL)
    assert example.ids[: len(at_inference)] == at_inference
    assert example.ids[len(at_inference) - 1] == tokenize(" ")[0]  # the prefill's lone space


def test_encode_flags_each_piece_token_by_token(tokenize):
    example = encode([("<|im_start|>user\nHi", False), ("<|im_end|>", True)], tokenize)
    assert example.learn[-1] and not any(example.learn[:-1])
    assert example.ids[-1] == tokenize("<|im_end|>")[0]


def test_chat_replay_keeps_finished_replies_and_learns_only_them(template):
    from minagent.models import ScriptedModel
    from minagent.train.chat import MAX_REPLY_TOKENS, chat_trajectories

    cut_off = " ".join(["word"] * MAX_REPLY_TOKENS)  # as long as the cap: it was cut
    model = ScriptedModel(["Hello there!", cut_off, "4"])
    prompts = [("", "Say hi"), ("", "Tell me a story"), ("You are terse.", "What is 2 + 2?")]
    trajectories = chat_trajectories(model, prompts)
    assert [[m.role for m in t.messages] for t in trajectories] == [
        ["user", "assistant"],
        ["system", "user", "assistant"],
    ]
    assert [t.messages[-1].content for t in trajectories] == ["Hello there!", "4"]
    assert all(t.agent == "chat" and t.task is None for t in trajectories)
    assert trajectories[1].learn == [False, False, True]
    pieces = text_pieces(template[0], trajectories[1].messages, trajectories[1].learn)
    assert [text for text, learned in pieces if learned] == ["4<|im_end|>"]


@pytest.mark.parametrize("note", [True, False])
def test_evaluation_runs_the_agent_and_can_turn_off_the_repeat_note(note):
    from minagent.models import ScriptedModel
    from minagent.train.evaluate import run_task

    task = make_tasks("held_out", 1, seed=0)[0]
    stuck = code_reply(f"result = {task.answer!r}\nprint(result)")
    model = ScriptedModel([stuck, stuck, code_reply(f"final_answer({task.answer!r})")])
    run = run_task(task, model, point_out_repeats=note)
    assert run["correct"] and run["steps"] == 3 == run["parsed_steps"]
    second_observation = model.calls[2][-1].content
    assert ("You already did exactly this in step 1" in second_observation) is note
