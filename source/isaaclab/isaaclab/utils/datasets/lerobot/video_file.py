# Copyright (c) 2022-2026, The Isaac Lab Project Developers (https://github.com/isaac-sim/IsaacLab/blob/main/CONTRIBUTORS.md).
# All rights reserved.
#
# SPDX-License-Identifier: BSD-3-Clause

"""Growing mp4 files of camera frames, encoded with PyAV, one episode at a time; and their recovery after a crash.

Each episode is encoded by an encoder of its own, flushed at the episode's end, so that every episode starts with a
key frame and all of its frames are in the file once :meth:`Mp4VideoFile.add_episode` returns. The file stays open
between episodes (its index, the ``moov`` box, is written when it is closed). The byte range of every encoded frame
is returned, so that a file left without its index by a crash can be rebuilt from the frames of its complete
episodes (:func:`rebuild_mp4`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING

import av
import numpy as np
from av.video.reformatter import VideoReformatter

if TYPE_CHECKING:
    from .lerobot_dataset_cfg import VideoCodecCfg

logger = logging.getLogger(__name__)

_DEFAULT_QUALITY = {"libsvtav1": ("crf", "30"), "libx264": ("crf", "23")}
_DEFAULT_PRESET = {"libsvtav1": "12", "libx264": "veryfast"}
_NVENC_QUALITY = ("cq", "23")
_NVENC_PRESET = "p4"


@dataclass(frozen=True)
class VideoEncoder:
    """Resolved encoder settings: one FFmpeg encoder, its pixel format, key frame interval and options."""

    codec: str
    pix_fmt: str
    gop_size: int
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_cfg(cls, cfg: VideoCodecCfg, codec: str | None = None) -> VideoEncoder:
        """The settings of a codec config (for ``codec`` if given instead of the config's), defaults filled in."""
        codec = codec or cfg.codec
        nvenc = codec.endswith("_nvenc")
        quality_name, default_quality = _NVENC_QUALITY if nvenc else _DEFAULT_QUALITY.get(codec, ("crf", None))
        options = {}
        quality = str(cfg.crf) if cfg.crf is not None else default_quality
        if quality is not None:
            options[quality_name] = quality
        preset = cfg.preset if cfg.preset is not None else (_NVENC_PRESET if nvenc else _DEFAULT_PRESET.get(codec))
        if preset is not None:
            options["preset"] = str(preset)
        options.update({key: str(value) for key, value in cfg.options.items()})
        return cls(codec=codec, pix_fmt=cfg.pix_fmt, gop_size=cfg.gop_size, options=options)

    def configure(self, context: av.VideoCodecContext, width: int, height: int, fps: int) -> None:
        """Set up an encoder context (not opened yet) for frames of a size and rate."""
        context.width = width
        context.height = height
        context.pix_fmt = self.pix_fmt
        context.time_base = Fraction(1, fps)
        context.framerate = Fraction(fps, 1)
        context.gop_size = self.gop_size
        context.options = dict(self.options)

    def open(self, width: int, height: int, fps: int) -> av.VideoCodecContext:
        """A new, opened encoder whose packets an mp4 file's stream of the same settings can hold."""
        # SVT-AV1 prints its configuration on every encoder it opens unless told to log errors only
        os.environ.setdefault("SVT_LOG", "1")
        context = av.CodecContext.create(self.codec, "w")
        self.configure(context, width, height, fps)
        context.flags |= av.codec.context.Flags.global_header
        context.open()
        return context


def resolve_encoder(cfg: VideoCodecCfg, width: int, height: int, fps: int) -> VideoEncoder:
    """The encoder settings to use: the config's codec if an encoder of it opens, else its fallback codec.

    Raises:
        ValueError: If the frame size does not suit the pixel format, or neither codec opens.
    """
    if cfg.pix_fmt == "yuv420p" and (width % 2 or height % 2):
        raise ValueError(
            f"Camera frames of {width}x{height} cannot be encoded as yuv420p: width and height must be even."
        )
    encoder = VideoEncoder.from_cfg(cfg)
    try:
        with _scheduling_kept():
            encoder.open(width, height, fps)
        return encoder
    except (av.FFmpegError, ValueError) as error:
        if cfg.fallback_codec is None or cfg.fallback_codec == cfg.codec:
            raise ValueError(f"The video encoder '{cfg.codec}' cannot be opened: {error}") from error
        logger.warning(
            "The video encoder '%s' cannot be opened (%s); encoding with '%s' instead.",
            cfg.codec,
            error,
            cfg.fallback_codec,
        )
    fallback = VideoEncoder.from_cfg(cfg, cfg.fallback_codec)
    with _scheduling_kept():
        fallback.open(width, height, fps)
    return fallback


@dataclass(frozen=True)
class EncodedEpisode:
    """Where an episode's frames are in its mp4 file."""

    first_frame: int
    """Index of the episode's first frame in the file."""
    samples: list[list[int]]
    """Per encoded frame, in file order: [end byte offset, pts, dts, key frame (0/1)] (pts, dts in frames)."""


class Mp4VideoFile:
    """One mp4 file of a video feature, growing by whole episodes.

    Not thread-safe: the handler that owns it serializes the calls.
    """

    def __init__(self, path: str, encoder: VideoEncoder, width: int, height: int, fps: int):
        """Create the file (it must not exist).

        Raises:
            FileExistsError: If the file exists.
        """
        self.path = path
        self._encoder = encoder
        self._size = (width, height)
        self._fps = fps
        self._file = open(path, "xb")  # noqa: SIM115 - stays open for the object's life
        # every packet is handed to the file as soon as it is muxed, so that the file holds each finished episode
        self._container = av.open(self._file, "w", format="mp4", container_options={"flush_packets": "1"})
        self._stream = self._container.add_stream(encoder.codec, rate=fps)
        encoder.configure(self._stream.codec_context, width, height, fps)
        # one converter to the encoder's pixel format for every frame (making one per frame costs more than encoding)
        self._reformatter = VideoReformatter()
        self._num_frames = 0

    @property
    def num_frames(self) -> int:
        """Frames in the file so far."""
        return self._num_frames

    @property
    def size_bytes(self) -> int:
        """Bytes in the file so far."""
        return self._file.tell()

    def add_episode(self, frames: np.ndarray) -> EncodedEpisode:
        """Encode an episode's frames (T, H, W, 3), uint8 RGB, at the end of the file, and hand them to the OS.

        Returns:
            Where the episode's frames are.
        """
        first_frame = self._num_frames
        threads_before = _thread_ids() - {threading.get_native_id()}
        if first_frame == 0:
            # the stream's own encoder gives the file its codec parameters
            encoder = self._stream.codec_context
            encoder.open()
        else:
            encoder = self._encoder.open(*self._size, self._fps)
        _demote_realtime_threads(threads_before)
        samples = []
        time_base = Fraction(1, self._fps)
        for index, image in enumerate(frames):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            frame = self._reformatter.reformat(frame, format=self._encoder.pix_fmt)
            frame.pts = first_frame + index
            frame.time_base = time_base
            self._mux(encoder.encode(frame), samples, time_base)
            if index == 0:
                _demote_realtime_threads(threads_before)  # threads the encoder started with its first frame
        self._mux(encoder.encode(None), samples, time_base)
        self._file.flush()
        self._num_frames += len(frames)
        return EncodedEpisode(first_frame=first_frame, samples=samples)

    def close(self) -> None:
        """Write the file's index and close it."""
        try:
            self._container.close()
        finally:
            self._file.close()

    def _mux(self, packets: list[av.Packet], samples: list[list[int]], time_base: Fraction) -> None:
        for packet in packets:
            packet.stream = self._stream
            pts, dts = packet.pts, packet.dts
            self._container.mux(packet)
            samples.append([self._file.tell(), int(pts), int(dts), int(packet.is_keyframe)])


def write_template(path: str, encoder: VideoEncoder, width: int, height: int, fps: int) -> None:
    """Write a one-frame mp4 made with an encoder's settings: its stream carries the codec parameters that
    :func:`rebuild_mp4` needs to rebuild a file encoded with the same settings."""
    with _scheduling_kept(), av.open(path, "w", format="mp4") as container:
        stream = container.add_stream(encoder.codec, rate=fps)
        encoder.configure(stream.codec_context, width, height, fps)
        frame = av.VideoFrame.from_ndarray(np.zeros((height, width, 3), dtype=np.uint8), format="rgb24")
        container.mux(stream.encode(frame.reformat(format=encoder.pix_fmt)))
        container.mux(stream.encode(None))


def mdat_payload_offset(path: str) -> int:
    """The offset of the first byte of an mp4 file's ``mdat`` box payload (the first encoded frame).

    Raises:
        ValueError: If the file has no ``mdat`` box.
    """
    with open(path, "rb") as file:
        offset = 0
        while True:
            file.seek(offset)
            header = file.read(16)
            if len(header) < 8:
                raise ValueError(f"'{path}' has no mdat box: it is not an mp4 file written by this handler.")
            size = int.from_bytes(header[:4], "big")
            if header[4:8] == b"mdat":
                return offset + (16 if size == 1 else 8)
            if size == 1:
                size = int.from_bytes(header[8:16], "big")
            if size < 8:
                raise ValueError(f"'{path}' has a malformed box at offset {offset}.")
            offset += size


def is_readable_mp4(path: str) -> bool:
    """Whether an mp4 file opens and has a video stream (a file left open by a crash has no index and does not)."""
    try:
        with av.open(path) as container:
            return len(container.streams.video) > 0
    except (av.FFmpegError, OSError):
        return False


def rebuild_mp4(broken_path: str, template_path: str, samples: list[list[int]], fps: int, output_path: str) -> None:
    """Write a complete mp4 from the encoded frames of a file that lost its index.

    Args:
        broken_path: The mp4 file without an index.
        template_path: A file of :func:`write_template` made with the same encoder settings.
        samples: The frames to keep, in file order, as :attr:`EncodedEpisode.samples` gives them.
        fps: Frames per second.
        output_path: The file to write (it must not exist).
    """
    time_base = Fraction(1, fps)
    start = mdat_payload_offset(broken_path)
    with (
        av.open(template_path) as template,
        open(broken_path, "rb") as source,
        open(output_path, "xb") as target,
        av.open(target, "w", format="mp4") as container,
    ):
        stream = container.add_stream_from_template(template.streams.video[0], opaque=True)
        for end, pts, dts, key in samples:
            source.seek(start)
            packet = av.Packet(source.read(end - start))
            packet.stream = stream
            packet.time_base = time_base
            packet.pts, packet.dts, packet.duration = pts, dts, 1
            packet.is_keyframe = bool(key)
            container.mux(packet)
            start = end


def _thread_ids() -> set[int]:
    """The ids of this process's threads (an empty set where ``/proc`` does not list them)."""
    try:
        return {int(name) for name in os.listdir("/proc/self/task")}
    except OSError:
        return set()


@contextlib.contextmanager
def _scheduling_kept() -> Iterator[None]:
    """Undo, on leaving, the real-time scheduling an encoder opened inside gave to threads (see
    :func:`_demote_realtime_threads`)."""
    threads_before = _thread_ids() - {threading.get_native_id()}
    try:
        yield
    finally:
        _demote_realtime_threads(threads_before)


def _demote_realtime_threads(threads_before: set[int]) -> None:
    """Give normal scheduling, at the calling thread's nice value, to the threads of this process not in
    ``threads_before`` that have a real-time scheduling policy (the calling thread included).

    SVT-AV1, run by root, gives its dozens of threads and the thread that opens it real-time priority: they would
    take the cores ahead of the simulation loop. Moved back, they run at the priority of the thread that writes (the
    recorder's writer thread runs at nice 10).
    """
    nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    for thread_id in _thread_ids() - threads_before:
        with contextlib.suppress(OSError):  # the thread ended, or this process may not change it
            if os.sched_getscheduler(thread_id) in (os.SCHED_FIFO, os.SCHED_RR):
                os.sched_setscheduler(thread_id, os.SCHED_OTHER, os.sched_param(0))
                os.setpriority(os.PRIO_PROCESS, thread_id, nice)
