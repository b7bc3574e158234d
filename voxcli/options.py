"""Options shared by several commands, each declared once as an ``Annotated`` alias."""

from enum import Enum
from typing import Annotated, Literal

import typer

from voxcli.render.formats import FORMATS

CONNECTION = "Connection"
OUTPUT = "Output"
REQUEST = "Request"

FormatName = Literal[FORMATS]  # type: ignore[valid-type]

ModelOpt = Annotated[
    str | None,
    typer.Option(
        "--model",
        "-m",
        metavar="NAME",
        help="Model to use (each command has its own default; voxcli models lists what each "
        "model can do).",
        show_default=False,
        rich_help_panel=REQUEST,
    ),
]
UploadOpt = Annotated[
    Literal["auto", "original", "opus"],
    typer.Option(
        "--upload",
        help="auto: lossless audio and video as 16 kHz mono FLAC (what the model hears), "
        "compressed audio as it is; original: files untouched (refused for a file with "
        "several audio streams when --audio-track picks one); opus: 16 kHz mono Opus, "
        "several times smaller than FLAC, lossy (for slow or metered links).",
        rich_help_panel=REQUEST,
    ),
]
AudioTrackOpt = Annotated[
    int | None,
    typer.Option(
        "--audio-track",
        min=0,
        metavar="N",
        help="Use the Nth audio stream of videos and other multi-track files, counting "
        "audio streams only, from 0 (default: the first); only that stream is decoded and "
        "sent. Not for URLs that the API fetches itself.",
        show_default=False,
        rich_help_panel=REQUEST,
    ),
]


class Granularity(str, Enum):
    segment = "segment"
    word = "word"


LanguageOpt = Annotated[
    str | None,
    typer.Option(
        "--language",
        "-l",
        metavar="CODE",
        help="Language of the audio as two letters (en, fr, ...). Not with --timestamps.",
        rich_help_panel=REQUEST,
    ),
]
TimestampsOpt = Annotated[
    list[Granularity] | None,
    typer.Option(
        "--timestamps",
        "-t",
        help="Ask for segment or word timestamps; give twice for both. Not with --language.",
        show_default=False,
        rich_help_panel=REQUEST,
    ),
]
DiarizeOpt = Annotated[
    bool,
    typer.Option("--diarize", help="Label who speaks when.", rich_help_panel=REQUEST),
]
BiasOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--bias",
        metavar="TERM",
        help="Words or names to favour (repeatable; commas separate terms; at most 100).",
        show_default=False,
        rich_help_panel=REQUEST,
    ),
]
BiasFileOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--bias-file",
        metavar="PATH",
        help="Read bias terms from PATH, one per line, '#' comments.",
        show_default=False,
        rich_help_panel=REQUEST,
    ),
]
SpeakerOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--speaker",
        metavar="NAME=PATH",
        help="A 3-15 s clip of a known speaker (repeatable, at most 8; needs --diarize): "
        "their segments come back labelled NAME.",
        show_default=False,
        rich_help_panel=REQUEST,
    ),
]
TemperatureOpt = Annotated[
    float | None,
    typer.Option(
        "--temperature",
        min=0.0,
        metavar="FLOAT",
        help="Sampling temperature.",
        rich_help_panel=REQUEST,
    ),
]
FormatOpt = Annotated[
    FormatName | None,
    typer.Option(
        "--format",
        "-f",
        help="Output format, or a comma list written from one request, one file per format "
        "(srt,json; needs -d) (default: from --output's extension, else text; env "
        "VOXCLI_FORMAT).",
        show_default=False,
        rich_help_panel=OUTPUT,
    ),
]
ApiKeyFileOpt = Annotated[
    str | None,
    typer.Option(
        "--api-key-file",
        metavar="PATH",
        help="Read the API key from PATH ('-' for stdin) instead of MISTRAL_API_KEY "
        "or the config file.",
        rich_help_panel=CONNECTION,
    ),
]
ServerUrlOpt = Annotated[
    str | None,
    typer.Option(
        "--server-url",
        metavar="URL",
        help="Mistral-compatible server to use (env MISTRAL_SERVER_URL).",
        rich_help_panel=CONNECTION,
    ),
]
TimeoutOpt = Annotated[
    float | None,
    typer.Option(
        "--timeout",
        min=0.001,
        metavar="SECONDS",
        help="Timeout of each request (default: 300; env VOXCLI_TIMEOUT).",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
RetriesOpt = Annotated[
    int | None,
    typer.Option(
        "--retries",
        min=0,
        metavar="N",
        help="Retries after 429, 5xx and connection errors, with backoff that honours "
        "Retry-After (default: 3; env VOXCLI_RETRIES).",
        show_default=False,
        rich_help_panel=CONNECTION,
    ),
]
VerboseOpt = Annotated[
    bool,
    typer.Option("--verbose", "-v", help="Report more on stderr.", rich_help_panel=OUTPUT),
]
QuietOpt = Annotated[
    bool,
    typer.Option("--quiet", "-q", help="Print only errors on stderr.", rich_help_panel=OUTPUT),
]


def _enable_debug(ctx: typer.Context, value: bool) -> None:
    if value and ctx.obj is not None:
        ctx.obj.console.debug = True


DebugOpt = Annotated[
    bool,
    typer.Option(
        "--debug",
        callback=_enable_debug,
        is_eager=True,
        help="Show tracebacks on errors (the API key is always masked) (env VOXCLI_DEBUG=1).",
        rich_help_panel=OUTPUT,
    ),
]
JobsOpt = Annotated[
    int,
    typer.Option(
        "--jobs",
        "-j",
        min=1,
        max=64,
        metavar="N",
        help="Requests in flight at once.",
        rich_help_panel=CONNECTION,
    ),
]

SUBTITLES = "Subtitles and text layout"

MaxLineWidthOpt = Annotated[
    int,
    typer.Option(
        "--max-line-width",
        metavar="N",
        help="Characters per subtitle line (Netflix: 42).",
        rich_help_panel=SUBTITLES,
    ),
]
MaxLinesOpt = Annotated[
    int,
    typer.Option(
        "--max-lines", metavar="N", help="Lines per subtitle cue.", rich_help_panel=SUBTITLES
    ),
]
MaxCueDurationOpt = Annotated[
    float,
    typer.Option(
        "--max-cue-duration",
        metavar="SECONDS",
        help="Longest time a cue stays on screen.",
        rich_help_panel=SUBTITLES,
    ),
]
MinCueDurationOpt = Annotated[
    float,
    typer.Option(
        "--min-cue-duration",
        metavar="SECONDS",
        help="Shortest time a cue stays on screen (5/6 s), without overlapping the next.",
        rich_help_panel=SUBTITLES,
    ),
]
MaxCharsPerSecondOpt = Annotated[
    float,
    typer.Option(
        "--max-chars-per-second",
        metavar="N",
        help="Reading speed to report on with --verbose (not enforced).",
        rich_help_panel=SUBTITLES,
    ),
]
HighlightWordsOpt = Annotated[
    bool,
    typer.Option(
        "--highlight-words",
        help="Karaoke-style srt/vtt cues, underlining each word as it is spoken "
        "(asks for word timestamps).",
        rich_help_panel=SUBTITLES,
    ),
]
AutoTextWidthOpt = Annotated[
    int | None,
    typer.Option(
        "--text-width",
        metavar="N",
        help="Wrap the text format at N characters (default: 80 when stdout is a terminal, "
        "else one paragraph per line); 0 never wraps.",
        show_default=False,
        rich_help_panel=SUBTITLES,
    ),
]
TextWidthOpt = Annotated[
    int,
    typer.Option(
        "--text-width",
        metavar="N",
        help="Wrap the text format at N characters; 0 keeps one paragraph per line.",
        rich_help_panel=SUBTITLES,
    ),
]
