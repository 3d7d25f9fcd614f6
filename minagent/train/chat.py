"""Plain chat turns, replayed: so that learning to act does not unlearn how to talk.

A LoRA trained only on agent conversations pulls every reply towards them: after the first
small adapter, "Say hi" got an emoji and a code fence. The cheap cure is replay: ask the
plain model (no adapter) ordinary chat questions, keep its own greedy replies, and mix those
conversations into the training data. The adapter then learns "answer chat as before" next to
"answer a task with code", and its chat drifts much less. No data from outside is needed:
the model is its own teacher.

Only replies that ended by themselves are kept: a reply cut at `max_tokens` would teach the
model to stop in mid-sentence.

Example (loads the embedded model, a few seconds per prompt):
        trajectories = chat_trajectories(LocalModel(adapter=None), CHAT_PROMPTS[:2])
        [m.role for m in trajectories[0].messages]  # -> ['user', 'assistant']
"""

from __future__ import annotations

from collections.abc import Sequence

from minagent.messages import Message, system, user
from minagent.models import Model
from minagent.train.trajectories import Trajectory

CHAT_PROMPTS: list[tuple[str, str]] = [
    ("", "Say hi"),
    ("", "Hi"),
    ("", "Hello! How are you today?"),
    ("", "Good morning!"),
    ("", "Thank you for your help."),
    ("", "Who are you?"),
    ("", "What can you do?"),
    ("", "Name a colour."),
    ("", "What is the capital of France?"),
    ("", "What is the largest planet in the solar system?"),
    ("", "How many days are in a week?"),
    ("", "What do bees make?"),
    ("", "Why is the sky blue? Answer in one sentence."),
    ("", "What is a function in Python?"),
    ("", "What does a for loop do?"),
    ("", "Explain what an API is in one sentence."),
    ("", "What is the difference between a list and a tuple in Python?"),
    ("", "What is machine learning?"),
    ("", "Give me three tips for learning to code."),
    ("", "Suggest a name for a cat."),
    ("", "Write a haiku about autumn."),
    ("", "Write one sentence about the sea."),
    ("", "Tell me a fun fact about octopuses."),
    ("", "Translate 'good morning' into French."),
    ("", "What is the opposite of 'hot'?"),
    ("", "Give me a synonym for 'happy'."),
    ("", "Describe a sunny day in two sentences."),
    ("", "What should I eat for breakfast?"),
    ("", "How do I make a cup of tea?"),
    ("", "Is a tomato a fruit or a vegetable?"),
    ("", "What is the boiling point of water in Celsius?"),
    ("", "What is photosynthesis?"),
    ("You are a terse assistant.", "What is 2 + 2?"),
    ("You are a terse assistant.", "Hi"),
    ("You are terse.", "Name a fruit."),
    ("Be brief.", "What is the capital of Japan?"),
    ("You are a friendly assistant.", "Hello!"),
    ("You are a friendly assistant.", "Can you help me plan a picnic?"),
    ("You are a helpful teacher.", "What is a variable?"),
    ("You answer in one word.", "What colour is grass?"),
]
"""(system prompt or "", user message): greetings, small questions, short writing tasks, the
kind of turns the course's chat demos send."""

MAX_REPLY_TOKENS = 128
"""Longer replies are not kept (they were cut, not finished)."""


def chat_trajectories(
    model: Model, prompts: Sequence[tuple[str, str]] = CHAT_PROMPTS
) -> list[Trajectory]:
    """The model's own greedy reply to each prompt, as a conversation to learn from; replies
    that hit MAX_REPLY_TOKENS are dropped."""
    trajectories = []
    for system_prompt, question in prompts:
        messages: list[Message] = [system(system_prompt)] if system_prompt else []
        messages.append(user(question))
        reply = model.generate(messages, max_tokens=MAX_REPLY_TOKENS, temperature=0.0)
        if reply.usage is not None and reply.usage.output_tokens >= MAX_REPLY_TOKENS:
            continue
        conversation = [*messages, Message("assistant", reply.content.strip())]
        learn = [m.role == "assistant" for m in conversation]
        trajectories.append(Trajectory(conversation, learn, "chat", None))
    return trajectories
