"""``voxcli live``: realtime transcription of a microphone, a pipe, a file or a stream."""

from pathlib import Path
from typing import Annotated, Literal

import typer

from voxcli.options import (
    OUTPUT,
    REQUEST,
    ApiKeyFileOpt,
    AudioTrackOpt,
    BiasFileOpt,
    BiasOpt,
    DebugOpt,
    DiarizeOpt,
    FormatName,
    ModelOpt,
    QuietOpt,
    RetriesOpt,
    ServerUrlOpt,
    SpeakerOpt,
    TimeoutOpt,
    VerboseOpt,
)

INPUT = "Input"

EncodingName = Literal["pcm_s16le", "pcm_s32le", "pcm_f16le", "pcm_f32le", "pcm_mulaw", "pcm_alaw"]


def live(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(
            metavar="SOURCE",
            help="Nothing for the microphone, '-' for audio on stdin (raw PCM, WAV, FLAC or "
            "OGG), or an audio file or http(s):// URL streamed at --pace.",
            show_default=False,
        ),
    ] = None,
    list_devices: Annotated[
        bool,
        typer.Option(
            "--list-devices", help="List the microphones and exit.", rich_help_panel=INPUT
        ),
    ] = False,
    device: Annotated[
        str | None,
        typer.Option(
            "--device",
            metavar="NAME|INDEX",
            help="The microphone to use (see --list-devices; default: the system's).",
            rich_help_panel=INPUT,
        ),
    ] = None,
    rate: Annotated[
        int,
        typer.Option(
            "--rate",
            metavar="HZ",
            help="Sample rate of raw PCM on stdin.",
            rich_help_panel=INPUT,
        ),
    ] = 16_000,
    encoding: Annotated[
        EncodingName,
        typer.Option(
            "--encoding", help="Sample format of raw PCM on stdin.", rich_help_panel=INPUT
        ),
    ] = "pcm_s16le",
    pace: Annotated[
        float,
        typer.Option(
            "--pace",
            metavar="FACTOR",
            help="Stream a file or URL at FACTOR times real time; 0: as fast as the server "
            "takes it.",
            rich_help_panel=INPUT,
        ),
    ] = 1.0,
    duration: Annotated[
        float | None,
        typer.Option(
            "--duration",
            metavar="SECONDS",
            help="Stop by itself after SECONDS of audio (e.g. record a broadcast from cron).",
            show_default=False,
            rich_help_panel=INPUT,
        ),
    ] = None,
    audio_track: AudioTrackOpt = None,
    model: ModelOpt = None,
    language: Annotated[
        str | None,
        typer.Option(
            "--language",
            "-l",
            metavar="CODE",
            help="Language of the audio as two letters (en, fr, ...).",
            rich_help_panel=REQUEST,
        ),
    ] = None,
    diarize: DiarizeOpt = False,
    speaker: SpeakerOpt = None,
    bias: BiasOpt = None,
    bias_file: BiasFileOpt = None,
    delay: Annotated[
        int | None,
        typer.Option(
            "--delay",
            metavar="MS",
            help="How long the server waits for context before it commits text "
            "(target_streaming_delay_ms; the model's card gives the allowed ranges).",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    end_silence: Annotated[
        int | None,
        typer.Option(
            "--end-silence",
            metavar="MS",
            help="Silence that ends a turn (turn detection's min_silence_ms).",
            show_default=False,
            rich_help_panel=REQUEST,
        ),
    ] = None,
    no_turns: Annotated[
        bool,
        typer.Option(
            "--no-turns",
            help="Leave the server's turn detection off (on when the model has it).",
            rich_help_panel=REQUEST,
        ),
    ] = False,
    fmt: Annotated[
        FormatName | None,
        typer.Option(
            "--format",
            "-f",
            help="On stdout: text (a line per finished segment), jsonl (an object per event), "
            "srt or vtt; for -o, any format (default: from its extension).",
            show_default=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output",
            "-o",
            metavar="PATH",
            help="Write the whole session's transcript to PATH (the extension picks the "
            "format), checkpointed every few seconds while it runs.",
            dir_okay=False,
            rich_help_panel=OUTPUT,
        ),
    ] = None,
    api_key_file: ApiKeyFileOpt = None,
    server_url: ServerUrlOpt = None,
    timeout: TimeoutOpt = None,
    retries: RetriesOpt = None,
    verbose: VerboseOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Transcribe live audio as it is spoken: microphone, stdin, a file or a stream."""
    from voxcli.commands import common
    from voxcli.commands.live.request import LiveFlags, build_live_request
    from voxcli.commands.transcribe.request import bias_file_texts
    from voxcli.config import REALTIME_MODEL_SETTING
    from voxcli.env import Environment

    env: Environment = ctx.obj
    if list_devices:
        from voxcli.commands.live.run import print_devices

        print_devices(env)
        return
    flags = LiveFlags(
        source=source,
        device=device,
        rate=rate,
        encoding=encoding,
        pace=pace,
        audio_track=audio_track,
        language=language,
        diarize=diarize,
        speakers=tuple(speaker or ()),
        bias=tuple(bias or ()),
        bias_files=bias_file_texts(bias_file or ()),
        delay_ms=delay,
        end_silence_ms=end_silence,
        no_turns=no_turns,
        fmt=fmt,
        output=output,
        duration=duration,
        api_key_file=api_key_file,
        verbose=verbose,
        quiet=quiet,
    )
    settings = common.connection_settings(
        env, common.ConnectionFlags.of(ctx.params), model_setting=REALTIME_MODEL_SETTING
    )
    request = build_live_request(flags, settings)
    from voxcli.commands.live.run import run_live

    run_live(env, request, settings)
