"""The builtin offline renderer: deterministic, sized as asked, colourful as told, and it really edits."""

from __future__ import annotations

import io
import math
import threading

import pytest
from PIL import Image as PILImage
from PIL import ImageChops, ImageDraw, ImageFilter, ImageStat
from pydantic import ValidationError

from bot.core.errors import InvalidRequest, Misconfigured
from bot.core.imaging import encode_png, sniff
from bot.core.ports import Provider
from bot.core.types import Aspect, GenerationKind, Image, ImageRequest
from bot.providers.builtin import provider as builtin
from bot.providers.builtin.draw import (
    TEXTURE_CACHE_SIZE,
    Profile,
    gradient,
    gradient_rows,
    radial_distance,
    shape_band,
    soft_tint,
)
from bot.providers.builtin.provider import BuiltinProvider, create
from bot.providers.builtin.render import _pill, clear_caches, render_scene, stamp_preview
from bot.providers.builtin.settings import BuiltinSettings, Format
from tests.fakes.providers.harness import Progress

SOURCE_PROMPT = "mountains at dawn"


@pytest.fixture
def provider() -> BuiltinProvider:
    return BuiltinProvider(long_side=256)


async def generate(provider: BuiltinProvider, prompt: str, **fields: object) -> list[Image]:
    request = ImageRequest(prompt, **fields)  # type: ignore[arg-type]
    return await provider.generate(request, on_progress=Progress())


async def edit(provider: BuiltinProvider, instruction: str, reference: bytes) -> Image:
    images = await generate(
        provider,
        instruction,
        kind=GenerationKind.EDIT,
        reference_images=(reference,),
        source_prompt=SOURCE_PROMPT,
        seed=5,
    )
    assert len(images) == 1
    return images[0]


@pytest.fixture
async def reference(provider: BuiltinProvider) -> bytes:
    """A square builtin render to edit."""
    [image] = await generate(provider, SOURCE_PROMPT, seed=11)
    return image.data


def pil(data: bytes) -> PILImage.Image:
    return PILImage.open(io.BytesIO(data)).convert("RGB")


def means(data: bytes) -> list[float]:
    return list(ImageStat.Stat(pil(data)).mean)


def luminance(data: bytes) -> float:
    return float(ImageStat.Stat(pil(data).convert("L")).mean[0])


def edge_energy(data: bytes) -> float:
    """Mean edge strength of the upper part of the image (away from the preview mark)."""
    img = pil(data).convert("L")
    top = img.crop((0, 0, img.width, img.height * 3 // 4))
    return float(ImageStat.Stat(top.filter(ImageFilter.FIND_EDGES)).mean[0])


def hue_share(data: bytes, centre: int, width: int = 14) -> float:
    """Fraction of clearly coloured pixels whose hue (0-255 scale) is within ``width`` of ``centre``."""
    raw = pil(data).convert("HSV").tobytes()
    hits = sum(
        1
        for i in range(0, len(raw), 3)
        if min((raw[i] - centre) % 256, (centre - raw[i]) % 256) <= width
        and raw[i + 1] > 70
        and raw[i + 2] > 40
    )
    return hits / (len(raw) // 3)


# ------------------------------------------------------------------------------------ the protocol


def test_builtin_provider_satisfies_the_provider_protocol(provider: BuiltinProvider) -> None:
    """BuiltinProvider is a Provider with the advertised name and capabilities."""
    assert isinstance(provider, Provider)
    assert provider.name == "builtin"
    assert provider.capabilities.edit
    assert provider.capabilities.max_n == 4
    assert provider.capabilities.aspects is None
    assert provider.capabilities.max_reference_images == 1


@pytest.mark.parametrize("long_side", [32, 4096])
def test_long_side_outside_limits_is_misconfigured(long_side: int) -> None:
    """A long side below 64 or above 2048 px is a configuration error."""
    with pytest.raises(Misconfigured):
        BuiltinProvider(long_side=long_side)


# ------------------------------------------------------------------------------------- generation


async def test_output_is_a_png_described_correctly(provider: BuiltinProvider) -> None:
    """The image is PNG bytes whose mime, size, provider and model fields match."""
    [image] = await generate(provider, "a calm blue ocean", seed=3)
    assert sniff(image.data) == image.mime == "image/png"
    assert pil(image.data).size == (image.width, image.height) == (256, 256)
    assert (image.provider, image.model, image.seed) == ("builtin", "builtin-v1", 3)


async def test_same_prompt_and_seed_are_byte_identical(provider: BuiltinProvider) -> None:
    """Rendering is deterministic: same prompt, seed, aspect and size give the same bytes."""
    [first] = await generate(provider, "neon cyberpunk city at night", seed=42, aspect=Aspect(16, 9))
    [second] = await generate(
        BuiltinProvider(long_side=256), "neon cyberpunk city at night", seed=42, aspect=Aspect(16, 9)
    )
    assert first.data == second.data


async def test_different_seeds_give_different_images(provider: BuiltinProvider) -> None:
    """Another seed gives another picture."""
    [a] = await generate(provider, "a watercolor fox at dawn", seed=1)
    [b] = await generate(provider, "a watercolor fox at dawn", seed=2)
    assert a.data != b.data


async def test_missing_seed_is_chosen_at_random_and_reported(provider: BuiltinProvider) -> None:
    """Without a seed one is picked in 0..2**32-1 and returned on the image."""
    [image] = await generate(provider, "hello")
    assert image.seed is not None
    assert 0 <= image.seed < 2**32


async def test_wide_aspect_uses_the_configured_long_side() -> None:
    """16:9 at long side 512 is 512x288."""
    [image] = await generate(BuiltinProvider(long_side=512), "desert dunes", seed=1, aspect=Aspect(16, 9))
    assert (image.width, image.height) == (512, 288)
    assert abs(image.width / image.height - 16 / 9) < 0.02


async def test_tall_aspect_puts_the_long_side_vertically(provider: BuiltinProvider) -> None:
    """9:16 makes the height the long side."""
    [image] = await generate(provider, "a quiet forest", seed=1, aspect=Aspect(9, 16))
    assert (image.width, image.height) == (144, 256)


async def test_long_side_2048_is_supported() -> None:
    """The maximum long side, 2048 px, renders (a 4:1 strip keeps the test fast)."""
    [image] = await generate(BuiltinProvider(long_side=2048), "ocean at night", seed=1, aspect=Aspect(4, 1))
    assert (image.width, image.height) == (2048, 512)


async def test_n_images_use_consecutive_seeds_and_differ(provider: BuiltinProvider) -> None:
    """n=2 gives two different images with seeds s and s+1."""
    images = await generate(provider, "snowy winter peaks", seed=100, n=2)
    assert [i.seed for i in images] == [100, 101]
    assert images[0].data != images[1].data


async def test_image_i_of_a_batch_equals_a_single_render_with_seed_plus_i(provider: BuiltinProvider) -> None:
    """The second image of a batch is the same as rendering alone with seed+1."""
    batch = await generate(provider, "autumn forest", seed=7, n=2)
    [alone] = await generate(provider, "autumn forest", seed=8)
    assert batch[1].data == alone.data


async def test_n_is_capped_at_max_n(provider: BuiltinProvider) -> None:
    """Asking for more than four images gives four."""
    assert len(await generate(provider, "hills", seed=1, n=9)) == 4


async def test_progress_fractions_rise_to_one(provider: BuiltinProvider) -> None:
    """on_progress is called with increasing fractions, ending at exactly 1.0."""
    progress = Progress()
    await provider.generate(ImageRequest("a red sunset", n=3, seed=1), on_progress=progress)
    assert progress.calls == sorted(progress.calls)
    assert len(progress.calls) >= 3
    assert progress.calls[-1] == 1.0


async def test_rendering_runs_off_the_event_loop_thread(
    provider: BuiltinProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pillow work happens in a worker thread, never on the event loop's thread."""
    threads: list[threading.Thread] = []

    def recording_render(*args: object, **kwargs: object) -> PILImage.Image:
        threads.append(threading.current_thread())
        return render_scene(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtin, "render_scene", recording_render)
    await generate(provider, "a calm blue ocean", seed=1)
    assert threads
    assert threading.main_thread() not in threads


# ---------------------------------------------------------------------------------------- palette


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_red_in_the_prompt_makes_a_red_image(provider: BuiltinProvider, seed: int) -> None:
    """'red' shifts the palette: mean red exceeds mean blue."""
    [image] = await generate(provider, "a red landscape", seed=seed)
    red, _, blue = means(image.data)
    assert red > blue + 20


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_blue_in_the_prompt_makes_a_blue_image(provider: BuiltinProvider, seed: int) -> None:
    """'blue' shifts the palette: mean blue exceeds mean red."""
    [image] = await generate(provider, "a blue landscape", seed=seed)
    red, _, blue = means(image.data)
    assert blue > red + 20


@pytest.mark.parametrize("seed", [1, 2, 3])
async def test_negative_colour_is_removed(provider: BuiltinProvider, seed: int) -> None:
    """'--no red' leaves (almost) no red pixels, even in a red sunset."""
    [red] = await generate(provider, "a red sunset", seed=seed)
    [no_red] = await generate(provider, "a red sunset", seed=seed, negative="red")
    assert hue_share(red.data, centre=0) > 0.3
    assert hue_share(no_red.data, centre=0) < 0.02


def test_preview_mark_is_stamped_bottom_right() -> None:
    """The "Easel preview" pill changes only the bottom-right corner, and only in neutral grey."""
    plain = render_scene("mountains", 1, (320, 240))
    marked = stamp_preview(plain)
    box = ImageChops.difference(plain, marked).getbbox()
    assert box is not None
    assert box[0] > 320 * 0.55
    assert box[1] > 240 * 0.75
    grey = PILImage.new("RGB", (320, 240), (120, 120, 120))
    r, g, b = stamp_preview(grey).split()
    assert r.tobytes() == g.tobytes() == b.tobytes()


# ------------------------------------------------------------------------------------------ edits


async def test_warmer_raises_red_over_blue(provider: BuiltinProvider, reference: bytes) -> None:
    """'make it warmer' measurably raises mean(R)/mean(B)."""
    before, after = means(reference), means((await edit(provider, "make it warmer", reference)).data)
    assert after[0] / after[2] > before[0] / before[2] * 1.15


async def test_cooler_lowers_red_over_blue(provider: BuiltinProvider, reference: bytes) -> None:
    """'cooler' measurably lowers mean(R)/mean(B)."""
    before, after = means(reference), means((await edit(provider, "a bit cooler please", reference)).data)
    assert after[0] / after[2] < before[0] / before[2] * 0.95


async def test_brighter_raises_luminance(provider: BuiltinProvider, reference: bytes) -> None:
    """'brighter' raises mean luminance."""
    assert luminance((await edit(provider, "brighter", reference)).data) > luminance(reference) + 10


async def test_darker_lowers_luminance(provider: BuiltinProvider, reference: bytes) -> None:
    """'darker' lowers mean luminance."""
    assert luminance((await edit(provider, "make it darker", reference)).data) < luminance(reference) - 10


async def test_at_night_is_darker_and_cooler(provider: BuiltinProvider, reference: bytes) -> None:
    """'at night' darkens and cools."""
    night = (await edit(provider, "show it at night", reference)).data
    before, after = means(reference), means(night)
    assert luminance(night) < luminance(reference) - 10
    assert after[0] / after[2] < before[0] / before[2]


async def test_black_and_white_is_grey_everywhere(provider: BuiltinProvider, reference: bytes) -> None:
    """'black and white' gives R == G == B at every pixel, the preview mark included."""
    r, g, b = pil((await edit(provider, "make it black and white", reference)).data).split()
    assert r.tobytes() == g.tobytes() == b.tobytes()


async def test_blur_reduces_edge_energy(provider: BuiltinProvider, reference: bytes) -> None:
    """'blur' softens edges."""
    assert edge_energy((await edit(provider, "blur it", reference)).data) < edge_energy(reference) * 0.8


async def test_sharpen_increases_edge_energy(provider: BuiltinProvider, reference: bytes) -> None:
    """'sharpen' strengthens edges."""
    assert edge_energy((await edit(provider, "sharpen", reference)).data) > edge_energy(reference) * 1.1


async def test_more_contrast_spreads_luminance(provider: BuiltinProvider, reference: bytes) -> None:
    """'more contrast' widens the spread of luminance values."""
    before = ImageStat.Stat(pil(reference).convert("L")).stddev[0]
    after = ImageStat.Stat(pil((await edit(provider, "more contrast", reference)).data).convert("L")).stddev[
        0
    ]
    assert after > before * 1.15


async def test_aspect_edit_crops_a_square_to_16_9(provider: BuiltinProvider, reference: bytes) -> None:
    """'try a 16:9 version' centre-crops the square reference to 16:9."""
    image = await edit(provider, "try a 16:9 version", reference)
    assert (image.width, image.height) == (256, 144)
    assert image.revised_prompt == "builtin preview: cropped to 16:9"


async def test_colour_edit_keeps_the_reference_size(provider: BuiltinProvider) -> None:
    """An edit of a non-square reference keeps its size."""
    source = encode_png(PILImage.new("RGB", (300, 200), (90, 120, 160)))
    image = await edit(provider, "warmer", source)
    assert (image.width, image.height) == (300, 200)


async def test_edit_keeps_transparency(provider: BuiltinProvider) -> None:
    """A transparent reference stays transparent where it was."""
    source = encode_png(PILImage.new("RGBA", (120, 120), (90, 120, 160, 0)))
    image = await edit(provider, "brighter", source)
    decoded = PILImage.open(io.BytesIO(image.data))
    assert decoded.mode == "RGBA"
    assert decoded.getchannel("A").getpixel((5, 5)) == 0


async def test_an_edit_it_cannot_make_is_refused_with_what_it_can_do(
    provider: BuiltinProvider, reference: bytes
) -> None:
    """'add a hat' to a landscape with no one in it is refused in words, never blended in."""
    with pytest.raises(InvalidRequest) as caught:
        await edit(provider, "add a hat", reference)
    assert "no one here to wear a hat" in (caught.value.user_message or "")
    assert "warmer" in (caught.value.user_message or "")


async def test_vary_is_related_to_the_reference_but_different(
    provider: BuiltinProvider, reference: bytes
) -> None:
    """A variation is closer to its reference than a fresh render with the same seed is."""
    [varied] = await generate(
        provider, SOURCE_PROMPT, kind=GenerationKind.VARY, reference_images=(reference,), seed=99
    )
    [fresh] = await generate(provider, SOURCE_PROMPT, seed=99)
    ref = pil(reference)
    to_varied = ImageStat.Stat(ImageChops.difference(ref, pil(varied.data))).mean
    to_fresh = ImageStat.Stat(ImageChops.difference(ref, pil(fresh.data))).mean
    assert varied.data != reference
    assert sum(to_varied) < sum(to_fresh) * 0.75
    assert varied.seed == 99


# --------------------------------------------------------------------------------------- encoding


@pytest.mark.parametrize(
    ("fmt", "mime"), [("png", "image/png"), ("jpeg", "image/jpeg"), ("webp", "image/webp")]
)
async def test_format_chooses_the_encoding_and_the_mime_says_so(fmt: Format, mime: str) -> None:
    """Each format gives bytes of that type, and the image's mime names it."""
    [image] = await generate(BuiltinProvider(long_side=256, format=fmt), "a calm blue ocean", seed=3)
    assert sniff(image.data) == image.mime == mime
    assert pil(image.data).size == (image.width, image.height) == (256, 256)


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
async def test_lossy_formats_are_byte_identical_for_the_same_seed(fmt: Format) -> None:
    """JPEG and WebP renders of the same prompt and seed are the same bytes."""
    [first] = await generate(BuiltinProvider(long_side=256, format=fmt), "autumn forest", seed=7)
    [second] = await generate(BuiltinProvider(long_side=256, format=fmt), "autumn forest", seed=7)
    assert first.data == second.data


@pytest.mark.parametrize("fmt", ["jpeg", "webp"])
async def test_lossy_formats_show_the_same_picture_as_png(fmt: Format) -> None:
    """Seen at 1/8 scale, a JPEG or WebP render is within 1.5 levels (mean) of the PNG one."""
    prompt = "neon cyberpunk city at night"
    [png] = await generate(BuiltinProvider(long_side=256), prompt, seed=4)
    [lossy] = await generate(BuiltinProvider(long_side=256, format=fmt), prompt, seed=4)
    a, b = (pil(i.data).resize((32, 32), PILImage.Resampling.BOX) for i in (png, lossy))
    assert sum(ImageStat.Stat(ImageChops.difference(a, b)).mean) / 3 < 1.5


async def test_jpeg_edit_that_keeps_transparency_is_png() -> None:
    """With format jpeg, an edit of a transparent reference comes back as PNG (JPEG has no alpha)."""
    source = encode_png(PILImage.new("RGBA", (120, 120), (90, 120, 160, 0)))
    image = await edit(BuiltinProvider(long_side=256, format="jpeg"), "brighter", source)
    assert sniff(image.data) == image.mime == "image/png"
    assert PILImage.open(io.BytesIO(image.data)).getchannel("A").getpixel((5, 5)) == 0


async def test_jpeg_edit_leaves_the_uploads_metadata_behind() -> None:
    """A JPEG edit of a photo with EXIF and a comment carries neither."""
    exif = PILImage.Exif()
    exif[0x010F] = "SomeCamera"  # Make
    buffer = io.BytesIO()
    PILImage.new("RGB", (160, 120), (90, 120, 160)).save(buffer, "JPEG", exif=exif, comment=b"secret")
    image = await edit(BuiltinProvider(long_side=256, format="jpeg"), "warmer", buffer.getvalue())
    decoded = PILImage.open(io.BytesIO(image.data))
    assert image.mime == "image/jpeg"
    assert "exif" not in decoded.info
    assert "comment" not in decoded.info


def test_format_defaults_to_png() -> None:
    """providers.builtin.format is png unless set."""
    assert BuiltinSettings().format == "png"


def test_create_encodes_as_the_settings_say() -> None:
    """create() builds a provider with the configured format."""
    assert create(BuiltinSettings(format="webp")).format == "webp"


def test_unknown_format_is_refused() -> None:
    """A format other than png, jpeg or webp is a settings error."""
    with pytest.raises(ValidationError):
        BuiltinSettings(format="gif")


# ---------------------------------------------------------------------------------- texture caches


def test_texture_caches_stay_bounded_whatever_sizes_are_rendered() -> None:
    """After renders at many sizes, each per-size texture cache holds at most TEXTURE_CACHE_SIZE entries."""
    clear_caches()
    for i in range(TEXTURE_CACHE_SIZE * 3):
        side = 100 + 40 * i  # each a new size, and a new preview pill size
        stamp_preview(render_scene("hills", 1, (side, side)))
    assert radial_distance.cache_info().currsize == TEXTURE_CACHE_SIZE
    assert 1 < _pill.cache_info().currsize <= TEXTURE_CACHE_SIZE


def test_cached_textures_leave_the_pixels_unchanged() -> None:
    """A render with its size's textures cached (and used by another scene meanwhile) equals a cold one."""
    clear_caches()
    cold = stamp_preview(render_scene("a red sunset over the sea", 2, (320, 180)))
    stamp_preview(render_scene("moon over the lake at night", 3, (320, 180)))
    warm = stamp_preview(render_scene("a red sunset over the sea", 2, (320, 180)))
    assert radial_distance.cache_info().hits > 0
    assert cold.tobytes() == warm.tobytes()


# ------------------------------------------------------------------------------ drawing shortcuts


def whole_shape_mask(
    size: tuple[int, int], top: Profile, extra: list[list[tuple[float, float]]]
) -> PILImage.Image:
    """The terrain mask drawn on the whole 2x canvas, as the renderer did before shape_band."""
    w, h = size
    step = max(2, w // 400)
    outline = [(x * 2, top(x / w) * 2) for x in range(0, w + step, step)]
    mask = PILImage.new("L", (w * 2, h * 2), 0)
    draw = ImageDraw.Draw(mask)
    draw.polygon([*outline, (w * 2 + 2, h * 2 + 2), (-2, h * 2 + 2)], fill=255)
    for polygon in extra:
        draw.polygon([(x * 2, y * 2) for x, y in polygon], fill=255)
    return mask.reduce(2)


@pytest.mark.parametrize(
    ("size", "base", "amp"),
    [((320, 240), 150.3, 40.7), ((97, 203), 60.0, 90.0), ((256, 256), -20.0, 10.0), ((256, 256), 300.0, 5.0)],
)
def test_shape_band_is_the_whole_mask_without_its_constant_rows(
    size: tuple[int, int], base: float, amp: float
) -> None:
    """shape_band's rows equal those of the mask drawn whole; the rows above are 0 and below 255."""

    def top(x: float) -> float:
        return base - amp * (0.5 + 0.5 * math.sin(7.3 * x) * math.cos(2.1 * x + 0.4))

    trees = [[(40.2, base - 3.1), (47.9, base - amp - 25.6), (55.5, base - 3.1)]]
    whole = whole_shape_mask(size, top, trees)
    band = shape_band(size, top, trees)
    w, h = size
    assert band.rows(0, h).tobytes() == whole.tobytes()
    assert whole.crop((0, 0, w, band.y)).getextrema() in ((0, 0), None)
    below = whole.crop((0, band.y + band.mask.height, w, h))
    assert below.height == 0 or below.getextrema() == (255, 255)


@pytest.mark.parametrize("size", [(320, 240), (322, 241)])
def test_soft_tint_paints_as_scaling_up_the_whole_mask_would(size: tuple[int, int]) -> None:
    """soft_tint gives the pixels of tinting through the whole small mask scaled up (bicubic)."""

    def puffs(draw: ImageDraw.ImageDraw, s: float) -> None:
        draw.ellipse((100 * s, 60 * s, 190 * s, 75 * s), fill=120)
        draw.ellipse((20 * s, 150 * s, 60 * s, 170 * s), fill=90)

    base = render_scene("hills", 1, size)
    small = PILImage.new("L", (size[0] // 4, size[1] // 4), 0)
    puffs(ImageDraw.Draw(small), 1 / 4)
    mask = small.filter(ImageFilter.GaussianBlur(6 / 4)).resize(size, PILImage.Resampling.BICUBIC)
    expected = base.copy()
    expected.paste((250, 240, 230), (0, 0, *size), mask)
    soft_tint(base, (250, 240, 230), 4, 6, puffs)
    assert base.tobytes() == expected.tobytes()


def test_gradient_rows_are_rows_of_the_whole_gradient() -> None:
    """gradient_rows(start, stop) is that crop of the whole gradient."""
    stops = [(0.0, (10, 20, 30)), (0.55, (200, 100, 50)), (1.0, (250, 250, 240))]
    whole = gradient((40, 300), stops, 37, 260)
    for start, stop in [(0, 300), (0, 37), (36, 39), (100, 299), (259, 300), (300, 300)]:
        assert (
            gradient_rows((40, 300), stops, 37, 260, start, stop).tobytes()
            == whole.crop((0, start, 40, stop)).tobytes()
        )
