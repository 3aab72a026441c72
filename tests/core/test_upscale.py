"""Upscale (issue 20): image k of a generation twice as large, as a new generation whose parent is the
source; by the provider's own upscaler when it has one, else Lanczos with a note; never past 4096 px."""

from __future__ import annotations

import io

import pytest
from PIL import Image as PILImage

from bot.core.chat.buttons import Button, command_text, decode, encode, job_intent
from bot.core.errors import Unavailable
from bot.core.jobs.codec import intent_from_json, intent_to_json
from bot.core.messages import Upscale
from bot.core.ports import ProgressCallback
from bot.core.types import Action, Capabilities, GenerationKind, Image, ImageRequest
from tests.core.conftest import Harness
from tests.fakes.scripted import ScriptedProvider, png


class SizedProvider(ScriptedProvider):
    """Makes ``width`` x ``height`` images whose colour follows the seed; with ``upscaler``, it also has
    an upscaler of its own (which fails with ``upscale_errors`` first)."""

    def __init__(
        self,
        name: str = "scripted",
        *,
        width: int = 8,
        height: int = 6,
        upscaler: bool = False,
        upscale_errors: tuple[Exception, ...] = (),
    ) -> None:
        caps = Capabilities(edit=True, max_n=4, seed=True, max_reference_images=1, upscale=upscaler)
        super().__init__(name, capabilities=caps)
        self.width, self.height = width, height
        self.upscaled: list[tuple[bytes, int]] = []
        self._upscale_errors = list(upscale_errors)

    async def _run(self, request: ImageRequest, on_progress: ProgressCallback) -> list[Image]:
        base = request.seed or 0
        return [
            Image(
                data=png(self.width, self.height, ((base + i) % 256, 40, 90)),
                mime="image/png",
                width=self.width,
                height=self.height,
                seed=base + i,
                provider=self.name,
                model="m1",
            )
            for i in range(request.n)
        ]

    async def upscale(self, image: bytes, factor: int, *, on_progress: ProgressCallback) -> Image | None:
        self.upscaled.append((image, factor))
        if self._upscale_errors:
            raise self._upscale_errors.pop(0)
        w, h = self.width * factor, self.height * factor
        return Image(data=png(w, h, (1, 2, 3)), mime="image/png", width=w, height=h, provider=self.name)


def plain() -> list[SizedProvider]:
    return [SizedProvider()]


def with_upscaler() -> list[SizedProvider]:
    return [SizedProvider("other", upscaler=True), SizedProvider("maker", upscaler=True)]


def failing_upscaler() -> list[SizedProvider]:
    return [SizedProvider(upscaler=True, upscale_errors=(Unavailable("down", provider="scripted"),) * 9)]


def large() -> list[SizedProvider]:
    return [SizedProvider(width=2100, height=16)]


def size_of(data: bytes) -> tuple[int, int]:
    with PILImage.open(io.BytesIO(data)) as img:
        return img.size


@pytest.mark.easel(providers=plain)
async def test_upscale_without_an_upscaler_is_lanczos_twice_the_size_with_a_note(harness: Harness) -> None:
    """/upscale #1/2 without a provider upscaler: image 2 at 2x by Lanczos, said in a note."""
    first = await harness.last("/imagine two foxes --n 2 --seed 10")
    up = await harness.last(f"/upscale #{first.generation_id}/2")
    assert len(up.images) == 1 and size_of(up.images[0].path.read_bytes()) == (16, 12)
    big = PILImage.open(up.images[0].path).convert("RGB")
    assert big.getpixel((8, 6)) == PILImage.open(first.images[1].path).convert("RGB").getpixel((4, 3))
    assert "upscaled 2x with Lanczos; scripted has no upscaler" in up.notes


@pytest.mark.easel(providers=plain)
async def test_upscale_is_a_new_generation_with_the_source_as_parent(harness: Harness) -> None:
    """The result is a generation of kind upscale whose parent and recorded source are the image."""
    first = await harness.last("/imagine a fox --seed 4")
    up = await harness.last(f"/upscale #{first.generation_id}")
    record = await harness.easel.history.get_generation(generation_id=up.generation_id or 0)
    assert record is not None and record.kind is GenerationKind.UPSCALE
    assert record.parent_id == first.generation_id
    assert record.params["source"] == {"generation": first.generation_id, "image": 0}
    assert up.generation_id != first.generation_id and Action.UPSCALE in up.actions


@pytest.mark.easel(providers=with_upscaler)
async def test_the_provider_that_made_the_image_upscales_it_first(harness: Harness) -> None:
    """An image made by "maker" goes to maker's upscaler, not to the chain's first provider's."""
    first = await harness.last("/imagine a fox --provider maker")
    up = await harness.last(f"/upscale #{first.generation_id}")
    other, maker = harness.providers
    assert isinstance(other, SizedProvider) and isinstance(maker, SizedProvider)
    assert maker.upscaled == [(first.images[0].path.read_bytes(), 2)] and other.upscaled == []
    assert size_of(up.images[0].path.read_bytes()) == (16, 12) and not up.notes


@pytest.mark.easel(providers=failing_upscaler)
async def test_a_failing_upscaler_falls_back_to_lanczos_with_a_note(harness: Harness) -> None:
    """The provider's upscaler down: Lanczos makes it, and the note says why."""
    first = await harness.last("/imagine a fox")
    up = await harness.last(f"/upscale #{first.generation_id}")
    assert size_of(up.images[0].path.read_bytes()) == (16, 12)
    assert "upscaled 2x with Lanczos; scripted could not upscale it" in up.notes


@pytest.mark.easel(providers=large)
async def test_upscaling_past_4096_px_is_refused_with_a_clear_message(harness: Harness) -> None:
    """A 2100 px wide image would be 4200 px: refused, and nothing is generated."""
    first = await harness.last("/imagine a long banner")
    before = len(harness.providers[0].requests)  # type: ignore[attr-defined]
    answer = await harness.last(f"/upscale #{first.generation_id}")
    assert answer.is_error and "4096 px" in answer.text and "2100x16" in answer.text
    assert not answer.images and len(harness.providers[0].requests) == before  # type: ignore[attr-defined]


@pytest.mark.easel(providers=plain)
async def test_upscale_of_an_image_the_set_does_not_have_is_refused(harness: Harness) -> None:
    """/upscale #1/3 of a set of two: there is no image 3."""
    first = await harness.last("/imagine two foxes --n 2")
    answer = await harness.last(f"/upscale #{first.generation_id}/3")
    assert answer.is_error and "there is no image 3" in answer.text


@pytest.mark.easel(providers=plain)
async def test_upscale_of_another_chats_generation_is_refused(harness: Harness) -> None:
    """A generation of another chat cannot be upscaled from here (the id is not trusted)."""
    first = await harness.last("/imagine a fox", chat="c1")
    answer = await harness.last(f"/upscale #{first.generation_id}", chat="c2")
    assert answer.is_error and f"can't find image #{first.generation_id}" in answer.text


def mean_difference(a: PILImage.Image, b: PILImage.Image) -> float:
    pairs = zip(a.tobytes(), b.tobytes(), strict=True)
    return sum(abs(x - y) for x, y in pairs) / len(a.tobytes())


@pytest.mark.easel(env={"EASEL__PROVIDERS__BUILTIN__LONG_SIDE": "256"})
async def test_the_builtin_renderer_draws_its_scene_again_at_twice_the_size(harness: Harness) -> None:
    """builtin: the same scene drawn at 2x (from its recipe), not interpolated; no Lanczos note."""
    first = await harness.last("/imagine a red fox in the snow --seed 7")
    other = await harness.last("/imagine a red fox in the snow --seed 8")
    up = await harness.last(f"/upscale #{first.generation_id}")
    small = PILImage.open(first.images[0].path).convert("RGB")
    big = PILImage.open(up.images[0].path).convert("RGB")
    assert big.size == (small.width * 2, small.height * 2) and up.images[0].seed == 7
    assert not any("Lanczos" in note for note in up.notes)
    interpolated = small.resize(big.size, PILImage.Resampling.LANCZOS)
    assert mean_difference(big, interpolated) > 1  # drawn, not interpolated
    back = big.resize(small.size, PILImage.Resampling.BOX)
    another = PILImage.open(other.images[0].path).convert("RGB")
    assert mean_difference(back, small) < 8 < mean_difference(another, small)  # the same scene


@pytest.mark.easel
async def test_builtin_upscale_of_a_variation_without_a_recipe_says_lanczos(harness: Harness) -> None:
    """A builtin variation keeps no recipe: it is enlarged with Lanczos, and the note says why."""
    first = await harness.last("/imagine a red fox --seed 7")
    varied = await harness.last(f"/vary #{first.generation_id}")
    up = await harness.last(f"/upscale #{varied.generation_id}")
    assert "upscaled 2x with Lanczos; builtin cannot upscale this picture" in up.notes


def test_upscale_buttons_round_trip_per_image() -> None:
    """u:12:2 is Upscale of image 2 of #12, and makes an Upscale job intent."""
    button = Button(Action.UPSCALE, 12, 1)
    assert encode(button) == "u:12:2" and decode("u:12:2") == button
    assert job_intent(button) == Upscale(12, image=1) and command_text(button) == "/upscale #12/2"
    assert decode("u:12") == Button(Action.UPSCALE, 12)


@pytest.mark.parametrize(
    "data", ["u:12:0", "u:12:100", "u:0:1", "u:1234567890123:1", "u:12:2:3", "u:12:٢", "u:-1:1", "u:12:02x"]
)
def test_hostile_upscale_button_data_is_not_a_button(data: str) -> None:
    """Out-of-range, malformed or non-ASCII Upscale data decodes to nothing."""
    assert decode(data) is None


def test_an_upscale_job_survives_a_restart() -> None:
    """The job payload round-trips the Upscale intent with its image."""
    assert intent_from_json(intent_to_json(Upscale(5, image=2))) == Upscale(5, image=2)


@pytest.mark.easel(providers=plain, env={"EASEL__LIMITS__DAILY_IMAGES_PER_USER": "3"})
async def test_an_upscale_counts_one_image_against_the_quota(harness: Harness) -> None:
    """With the chat's n at 3 and 1 of 3 images used, an upscale (one image) is still allowed."""
    await harness.say("/settings n 3", is_admin=True)
    first = await harness.last("/imagine a fox --n 1")
    up = await harness.last(f"/upscale #{first.generation_id}")
    assert not up.is_error and len(up.images) == 1
