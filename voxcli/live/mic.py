"""The microphone, through ``sounddevice`` (PortAudio): the optional ``voxcli[mic]`` extra.

:func:`load_sounddevice` is the one place that imports it (the seam tests replace with a
fake module). Capture runs in PortAudio's callback thread, which only copies each block
into a bounded queue (dropping, and counting, what does not fit); the reader converts
to 16 kHz mono ``pcm_s16le`` when the device cannot capture that directly.
"""

from __future__ import annotations

import importlib
import queue
import threading
from collections.abc import Iterator
from typing import Any

from voxcli.errors import InputError, UsageError
from voxcli.live.sources import (
    CHUNK_SECONDS,
    POLL_SECONDS,
    TARGET_FORMAT,
    _Source,
    chunk_bytes,
    float_to_s16,
)

INSTALL_SOUNDDEVICE = "install it: pip install 'voxcli[mic]'"
INSTALL_PORTAUDIO = (
    "install PortAudio: apt install libportaudio2 (Debian, Ubuntu), "
    "dnf install portaudio (Fedora), brew install portaudio (macOS)"
)
QUEUE_SECONDS = 10.0
"""Captured audio held for a reader that falls behind; older blocks are kept, newer dropped."""
LIST_HINT = "list them with: voxcli live --list-devices"

InputDevice = tuple[int, str, int, float]
"""(index, name, input channels, default sample rate)."""


def load_sounddevice() -> Any:
    """Import ``sounddevice``; a UsageError saying what to install when it or PortAudio is
    missing (or when no host audio system can be used)."""
    try:
        sounddevice = importlib.import_module("sounddevice")
    except ImportError:
        raise UsageError(
            "microphone input needs the sounddevice package, which is not installed",
            hint=f"{INSTALL_SOUNDDEVICE} (or pass a file, a URL or '-' for stdin)",
        ) from None
    except OSError:  # sounddevice raises OSError('PortAudio library not found')
        raise UsageError(
            "microphone input needs the PortAudio library, which is not installed",
            hint=INSTALL_PORTAUDIO,
        ) from None
    return sounddevice


def list_input_devices(sd: Any = None) -> list[InputDevice]:
    """The devices that can record: (index, name, input channels, default rate)."""
    sd = sd if sd is not None else load_sounddevice()
    try:
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise InputError(f"cannot list audio devices: {exc}") from None
    found = []
    for position, info in enumerate(devices):
        channels = int(info.get("max_input_channels", 0))
        if channels > 0:
            found.append(
                (
                    int(info.get("index", position)),
                    str(info.get("name", f"device {position}")),
                    channels,
                    float(info.get("default_samplerate", 0.0)),
                )
            )
    return found


def default_input_device(sd: Any = None) -> int | None:
    """PortAudio's default input device, None when there is none."""
    sd = sd if sd is not None else load_sounddevice()
    try:
        index = sd.default.device[0]
    except (AttributeError, IndexError, TypeError):
        return None
    return int(index) if index is not None and int(index) >= 0 else None


def resolve_device(spec: str | None, devices: list[InputDevice]) -> int | None:
    """``--device NAME|INDEX`` as a device index (None: the default input).

    An index must be an input device's; a name matches exactly (ignoring case), else
    as the one device whose name contains it.
    """
    if not devices:
        raise InputError("no microphone or other input device was found", hint=LIST_HINT)
    if spec is None:
        return None
    text = spec.strip()
    if text.isdigit():
        index = int(text)
        if any(device[0] == index for device in devices):
            return index
        raise UsageError(f"--device {index} is not an input device", hint=LIST_HINT)
    wanted = text.casefold()
    exact = [device for device in devices if device[1].casefold() == wanted]
    matches = exact or [device for device in devices if wanted in device[1].casefold()]
    if len(matches) == 1:
        return matches[0][0]
    if not matches:
        raise UsageError(f"no input device is named {spec!r}", hint=LIST_HINT)
    names = ", ".join(f"{device[0]}: {device[1]}" for device in matches)
    raise UsageError(
        f"--device {spec!r} matches several input devices ({names})", hint="pass its index"
    )


def _capture_settings(sd: Any, index: int | None, devices: list[InputDevice]) -> tuple[int, int]:
    """(sample rate, channels) the device accepts: 16 kHz mono if it can, else its own."""
    info = next((d for d in devices if d[0] == index), None)
    if info is None:
        default = default_input_device(sd)
        info = next((d for d in devices if d[0] == default), devices[0])
    native = int(info[3]) or TARGET_FORMAT.sample_rate
    candidates = [(TARGET_FORMAT.sample_rate, 1), (native, 1), (native, min(2, info[2]))]
    for rate, channels in candidates:
        try:
            sd.check_input_settings(device=index, channels=channels, dtype="int16", samplerate=rate)
        except (sd.PortAudioError, ValueError):
            continue
        return rate, channels
    raise InputError(
        f"the input device {info[1]!r} accepts neither 16 kHz nor {native} Hz 16-bit audio"
    )


class MicSource(_Source):
    """16 kHz mono ``pcm_s16le`` from a microphone; capture starts when it is made."""

    def __init__(self, device: str | None = None, *, queue_seconds: float = QUEUE_SECONDS) -> None:
        super().__init__(TARGET_FORMAT, "microphone")
        sd = load_sounddevice()
        devices = list_input_devices(sd)
        index = resolve_device(device, devices)
        self.sample_rate, self.channels = _capture_settings(sd, index, devices)
        self._block_frames = max(1, round(self.sample_rate * CHUNK_SECONDS))
        self._queue: queue.Queue[bytes] = queue.Queue(
            maxsize=max(1, round(queue_seconds / CHUNK_SECONDS))
        )
        self._dropped_frames = 0
        self._overflows = 0
        self._stream_lock = threading.Lock()
        try:
            self._stream = sd.RawInputStream(
                samplerate=self.sample_rate,
                blocksize=self._block_frames,
                device=index,
                channels=self.channels,
                dtype="int16",
                callback=self._callback,
            )
            self._stream.start()
        except sd.PortAudioError as exc:
            raise InputError(
                f"cannot open the microphone: {exc}", hint="is another program using it?"
            ) from None
        self._cleanups.append(self._stop_stream)

    @property
    def dropped_seconds(self) -> float:
        """Captured audio dropped because the reader fell :data:`QUEUE_SECONDS` behind."""
        return self._dropped_frames / self.sample_rate

    @property
    def overflows(self) -> int:
        """Blocks PortAudio reported as overflowed (audio lost in the driver)."""
        return self._overflows

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # PortAudio's thread: copy and hand over, never block.
        if status:
            self._overflows += 1
        try:
            self._queue.put_nowait(bytes(indata))
        except queue.Full:
            self._dropped_frames += frames

    def _stop_stream(self) -> None:
        with self._stream_lock:
            stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.stop()
            finally:
                stream.close()

    def close(self) -> None:
        """Stop capture now (from any thread); :meth:`chunks` yields what was captured."""
        self._stop.set()
        self._stop_stream()
        super().close()

    def chunks(self) -> Iterator[bytes]:
        with self._running():
            convert = self._converter()
            size = chunk_bytes(TARGET_FORMAT)
            out = bytearray()
            while True:
                try:
                    block = self._queue.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    if self._stop.is_set():
                        break
                    continue
                out += convert(block, False)
                while len(out) >= size:
                    chunk = bytes(out[:size])
                    del out[:size]
                    yield self._emit(chunk)
            out += convert(b"", True)
            if out:
                yield self._emit(bytes(out[: len(out) - len(out) % 2]))

    def _converter(self) -> Any:
        """``convert(block, last) -> pcm_s16le at 16 kHz`` for the capture settings."""
        if self.sample_rate == TARGET_FORMAT.sample_rate and self.channels == 1:
            return lambda block, last: block
        import numpy as np

        from voxcli.audio.decode import resampler

        resample = resampler(self.sample_rate)
        channels = self.channels

        def convert(block: bytes, last: bool) -> bytes:
            samples = np.frombuffer(block, dtype="<i2").astype(np.float32) / 32768.0
            if channels > 1:
                samples = samples[: len(samples) - len(samples) % channels]
                samples = samples.reshape(-1, channels).mean(axis=1, dtype=np.float32)
            return float_to_s16(resample(samples, last))

        return convert
