"""bot.core.imaging's decompression budget: reduce on decode, refuse above a cap, one big decode at once."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PIL import Image

from bot.core import imaging
from bot.core.errors import ImageError
from tests.big_uploads import png_claiming, solid_png

WAIT_S = 10.0
"""How long a probe waits for another thread before the test fails (never reached when it passes)."""


def _encode(img: Image.Image, fmt: str, **params: Any) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format=fmt, **params)
    return buf.getvalue()


def _header_size(data: bytes) -> tuple[int, int]:
    with Image.open(io.BytesIO(data)) as img:
        return img.size


def test_a_tiny_png_declaring_7000_squared_is_stored_reduced_within_the_budget() -> None:
    """A 62 kB PNG declaring 7000x7000 (49 MP) comes back as a 3500x3500 PNG, under the pixel budget."""
    bounded = imaging.bound_upload(solid_png(7000, 7000))
    assert (bounded.width, bounded.height) == (3500, 3500) and bounded.downscaled
    assert bounded.mime == "image/png" and _header_size(bounded.data) == (3500, 3500)
    assert bounded.width * bounded.height <= imaging.PIXEL_BUDGET


def test_an_upload_within_the_budget_keeps_its_original_bytes() -> None:
    """A picture within the budget is only checked: the very same bytes come back."""
    data = _encode(Image.new("RGB", (640, 480), "teal"), "PNG")
    bounded = imaging.bound_upload(data)
    assert bounded.data is data and (bounded.width, bounded.height) == (640, 480)
    assert not bounded.downscaled


def test_a_60_mp_header_is_refused_with_a_friendly_message() -> None:
    """A header declaring 60 MP (above the 50 MP cap) is refused before decoding, saying both sizes."""
    with pytest.raises(ImageError) as info:
        imaging.bound_upload(png_claiming(10_000, 6_000))
    message = info.value.user_message
    assert message == ("That image has too many pixels: 10000x6000 is 60 MP, and 50 MP is the most I take.")


def test_jpeg_above_the_budget_is_decoded_at_a_smaller_scale_by_draft() -> None:
    """A JPEG needing a factor of 3 is decoded at libjpeg's 1/4 scale; the same PNG is reduced by 3."""
    picture = Image.new("RGB", (600, 600), (30, 90, 200))
    as_jpeg = imaging.open_image(_encode(picture, "JPEG"), budget=45_000)
    as_png = imaging.open_image(_encode(picture, "PNG"), budget=45_000)
    assert as_jpeg.size == (150, 150) and as_png.size == (200, 200)


def test_a_downscaled_jpeg_upload_is_stored_as_jpeg() -> None:
    """A JPEG upload above the budget is re-encoded as JPEG (not a much larger PNG)."""
    data = _encode(Image.new("RGB", (600, 400), (200, 90, 30)), "JPEG")
    bounded = imaging.bound_upload(data, budget=60_000)
    assert bounded.mime == "image/jpeg" and _header_size(bounded.data) == (300, 200)


def test_exif_orientation_is_applied_after_the_reduction() -> None:
    """A rotated (EXIF 6) JPEG reduced on decode comes back upright: width and height swapped."""
    exif = Image.Exif()
    exif[0x0112] = 6
    data = _encode(Image.new("RGB", (800, 400), "red"), "JPEG", exif=exif)
    assert imaging.open_image(data, budget=80_000).size == (200, 400)


@pytest.mark.parametrize(("source_mode", "mode"), [("RGBA", "RGBA"), ("P", "RGBA"), ("opaque P", "RGB")])
def test_modes_reduced_in_strips_match_pillows_own_reduce(
    source_mode: str, mode: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """RGBA and palette images (converted strip by strip) equal Pillow's whole-image reduce exactly."""
    monkeypatch.setattr(imaging, "_STRIP_PIXELS", 300)  # many strips, with a partial one at the end
    source = Image.radial_gradient("L").resize((101, 67)).convert("RGBA")
    source.putalpha(Image.linear_gradient("L").resize((101, 67)))
    if source_mode == "P":
        source = source.convert("P")  # keeps the transparency in the palette
    elif source_mode == "opaque P":
        source = source.convert("RGB").convert("P")
    expected = source.convert(mode).reduce(3)
    reduced = imaging.open_image(_encode(source, "PNG"), budget=800)
    assert reduced.mode == mode and reduced.size == expected.size == (34, 23)
    assert reduced.tobytes() == expected.tobytes()


class _Probe:
    """Stands in for ``imaging._load`` and the decode semaphore, to watch who decodes when."""

    def __init__(self, real_load: Callable[[Image.Image, int], Image.Image]) -> None:
        self._real_load = real_load
        self.semaphore = _WatchedSemaphore()
        self.first_inside = threading.Event()
        self.let_first_finish = threading.Event()
        self.active = 0
        self.most_active = 0
        self._lock = threading.Lock()
        self._calls = 0

    def load(self, src: Image.Image, factor: int) -> Image.Image:
        with self._lock:
            self._calls += 1
            first = self._calls == 1
            self.active += 1
            self.most_active = max(self.most_active, self.active)
        try:
            if first:
                self.first_inside.set()
                assert self.let_first_finish.wait(WAIT_S)
            return self._real_load(src, factor)
        finally:
            with self._lock:
                self.active -= 1


class _WatchedSemaphore(threading.BoundedSemaphore):
    """The real semaphore, telling when a second thread has come to wait for it."""

    def __init__(self) -> None:
        super().__init__(1)
        self.callers = 0
        self.second_waiting = threading.Event()
        self._count_lock = threading.Lock()

    def __enter__(self) -> bool:
        with self._count_lock:
            self.callers += 1
            if self.callers == 2:
                self.second_waiting.set()
        return super().__enter__()


@pytest.fixture
def probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[_Probe]:
    watcher = _Probe(imaging._load)
    monkeypatch.setattr(imaging, "_load", watcher.load)
    monkeypatch.setattr(imaging, "_LARGE_DECODES", watcher.semaphore)
    yield watcher
    watcher.let_first_finish.set()  # never leave a thread blocked, even when the test failed


def _in_thread(work: Callable[[], object]) -> threading.Thread:
    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    return thread


def test_large_decodes_run_one_at_a_time(probe: _Probe) -> None:
    """A second large decode waits at the semaphore until the first has finished decoding."""
    big = solid_png(2500, 2000)  # 5 MP: above SERIAL_DECODE_PIXELS, within the budget
    first = _in_thread(lambda: imaging.open_image(big))
    assert probe.first_inside.wait(WAIT_S)
    second = _in_thread(lambda: imaging.open_image(big))
    assert probe.semaphore.second_waiting.wait(WAIT_S)
    assert probe.active == 1  # the second is held at the semaphore, not decoding
    probe.let_first_finish.set()
    first.join(WAIT_S)
    second.join(WAIT_S)
    assert not first.is_alive() and not second.is_alive() and probe.most_active == 1


def test_small_decodes_do_not_wait_for_a_large_one(probe: _Probe) -> None:
    """While a large decode holds the semaphore, a small image is still decoded at once."""
    big = _in_thread(lambda: imaging.open_image(solid_png(2500, 2000)))
    assert probe.first_inside.wait(WAIT_S)
    small = _in_thread(lambda: imaging.open_image(_encode(Image.new("RGB", (64, 64)), "PNG")))
    small.join(WAIT_S)
    assert not small.is_alive() and probe.semaphore.callers == 1
    probe.let_first_finish.set()
    big.join(WAIT_S)


def test_the_release_hook_runs_after_large_decodes_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hook (glibc's malloc_trim in production) follows a large decode, not a small one."""
    calls: list[int] = []
    monkeypatch.setattr(imaging, "_release_hook", None)
    imaging.set_release_hook(lambda: calls.append(1))
    imaging.open_image(_encode(Image.new("RGB", (64, 64)), "PNG"))
    imaging.open_image(solid_png(2500, 2000))
    assert calls == [1]
