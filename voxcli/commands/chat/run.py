"""Run a :class:`~voxcli.commands.chat.request.ChatRequest`: prepare the clips, ask, print."""

from __future__ import annotations

import json
from contextlib import ExitStack
from typing import Any, TextIO

from voxcli.api import ChatResult, MistralApi
from voxcli.catalog.check import Needs
from voxcli.commands import common
from voxcli.commands.chat.messages import answer_json, audio_refs, build_messages, write_answer
from voxcli.commands.chat.request import ChatRequest, no_question
from voxcli.commands.modelcheck import check_model
from voxcli.config import Settings
from voxcli.console import silent
from voxcli.env import Environment
from voxcli.errors import UsageError
from voxcli.output.sinks import write_stdout

_CUT_OFF = {
    "length": "the answer was cut off at the token limit (finish reason: length); "
    "raise --max-tokens",
    "model_length": "the answer was cut off: the model's context is full "
    "(finish reason: model_length)",
}


def ask(env: Environment, request: ChatRequest, settings: Settings) -> None:
    """Send the question with its clips and print the answer as the request asks."""
    console = env.console
    question = request.prompt if request.prompt is not None else read_question(env.stdin)
    say = common.say_for(env, verbose=request.verbose, quiet=request.quiet)
    with ExitStack() as stack:
        api = stack.enter_context(common.open_api(settings, jobs=1))
        api.report_retries(say)
        guard = check_model(env, api, settings, Needs(kind="chat"), quiet=request.quiet, say=say)
        refs = stack.enter_context(
            audio_refs(
                api,
                request.clips,
                stdin=env.stdin_bytes if request.audio_on_stdin else None,
                upload_threshold=request.upload_threshold,
                temp_dir=env.temp_dir,
                report=say,
                warn=silent if request.quiet else console.warn,  # -q: only errors
            )
        )
        messages = build_messages(question, refs, request.system)
        result = guard.call(_answer, env, api, request, messages)
    warning = _CUT_OFF.get(result.finish_reason or "") if result is not None else None
    if warning is not None and not request.quiet:
        console.warn(warning)


def _answer(
    env: Environment, api: MistralApi, request: ChatRequest, messages: list[dict[str, Any]]
) -> ChatResult | None:
    """Ask and print the answer the way the request says; the result (None for --json)."""
    if request.answer == "json":
        result = api.chat(request.params, messages)
        write_stdout(json.dumps(answer_json(result), ensure_ascii=False) + "\n", env.stdout)
        return None
    if request.answer == "stream":
        with api.chat_stream(request.params, messages) as answer:
            write_answer(answer, env.stdout)
        return answer.result
    result = api.chat(request.params, messages)
    write_answer([result.text], env.stdout)
    return result


def read_question(stdin: TextIO) -> str:
    """The question piped in on stdin (UTF-8, a BOM allowed); an error if there is none."""
    raw = stdin.buffer.read() if hasattr(stdin, "buffer") else stdin.read().encode()
    try:
        question = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise UsageError("the question on stdin is not UTF-8 text") from None
    if not question.strip():
        raise no_question(stdin_busy=False)
    return question.strip()
