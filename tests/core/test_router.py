"""The intent router: commands, flags, captions and free text → Intent (or InvalidInput / Ignore)."""

from __future__ import annotations

from typing import Any

import pytest

from bot.core.chat.router import Router, RouterConfig
from bot.core.errors import InvalidInput
from bot.core.messages import (
    Attachment,
    Cancel,
    Edit,
    Generate,
    GenerationOptions,
    Help,
    History,
    Ignore,
    Incoming,
    Intent,
    Reroll,
    Settings,
    Status,
    Vary,
)
from bot.core.types import Aspect

PNG = Attachment(b"\x89PNG\r\n\x1a\n", filename="photo.png", mime="image/png")
PDF = Attachment(b"%PDF-1.7", filename="notes.pdf", mime="application/pdf")
EASEL = Router(RouterConfig(bot_username="EaselBot"))


def route(text: str, *, addressed: bool = True, router: Router = EASEL, **fields: Any) -> Intent:
    return router.route(
        Incoming(platform="console", chat_id="c1", user_id="u1", text=text, **fields), addressed=addressed
    )


def user_error(text: str, *, router: Router = EASEL, **fields: Any) -> str:
    with pytest.raises(InvalidInput) as info:
        route(text, router=router, **fields)
    return info.value.user_message


def options(text: str) -> GenerationOptions:
    intent = route(f"/imagine a fox {text}")
    assert isinstance(intent, Generate)
    return intent.options


# ------------------------------------------------------------------------------------------ commands


@pytest.mark.parametrize(
    "text",
    [
        "/imagine a fox",
        "/img a fox",
        "/draw a fox",
        "/generate a fox",
        "/IMAGINE a fox",
        "/Imagine@EaselBot a fox",
        "/imagine@easelbot a fox",
    ],
)
def test_generate_command_and_aliases(text: str) -> None:
    """/imagine and its aliases, in any case and with this bot's @suffix, give Generate."""
    assert route(text) == Generate(prompt="a fox")


@pytest.mark.parametrize("text", ["/imagine", "/imagine    ", "/draw --ar 16:9"])
def test_generate_without_prompt_is_invalid(text: str) -> None:
    """An empty prompt asks the user what to draw, with an example."""
    assert user_error(text) == "Tell me what to draw, e.g. /imagine a watercolor fox --ar 16:9"


def test_command_arguments_may_span_lines() -> None:
    """Newlines between the command, the prompt and the flags are plain whitespace."""
    assert route("/imagine\na fox\n--ar 16:9") == Generate("a fox", GenerationOptions(aspect=Aspect(16, 9)))


def test_edit_command() -> None:
    """/edit gives an explicit Edit of the chat's last image."""
    assert route("/edit make it warmer") == Edit(instruction="make it warmer")


@pytest.mark.parametrize("target", ["#12", "12"])
def test_edit_command_names_a_generation(target: str) -> None:
    """/edit #12 ... and /edit 12 ... target generation 12."""
    assert route(f"/edit {target} make it warmer") == Edit("make it warmer", generation_id=12)


def test_edit_command_uses_the_replied_to_generation() -> None:
    """/edit sent as a reply to one of the bot's images edits that image."""
    assert route("/edit add a hat", reply_to_generation_id=7) == Edit("add a hat", generation_id=7)


def test_edit_command_explicit_target_beats_reply() -> None:
    """An explicit #id wins over the replied-to generation."""
    assert route("/edit #3 add a hat", reply_to_generation_id=7) == Edit("add a hat", generation_id=3)


def test_edit_command_takes_an_attached_image_as_reference() -> None:
    """An image attached to /edit becomes the reference."""
    assert route("/edit add a hat", attachments=(PDF, PNG)) == Edit("add a hat", reference=PNG)


def test_edit_command_parses_flags() -> None:
    """Flags after an edit instruction become its options."""
    assert route("/edit make it wider --ar 16:9") == Edit(
        "make it wider", GenerationOptions(aspect=Aspect(16, 9))
    )


@pytest.mark.parametrize("text", ["/edit", "/edit #12", "/edit --ar 1:1"])
def test_edit_command_without_instruction_is_invalid(text: str) -> None:
    """/edit with nothing to change asks what to change."""
    assert user_error(text).startswith("Tell me what to change")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/reroll", Reroll()),
        ("/reroll 12", Reroll(12)),
        ("/reroll #12", Reroll(12)),
        ("/vary", Vary()),
        ("/vary #7", Vary(7)),
        ("/VARY 7", Vary(7)),
    ],
)
def test_reroll_and_vary_commands(text: str, intent: Intent) -> None:
    """/reroll and /vary take an optional #id or id."""
    assert route(text) == intent


@pytest.mark.parametrize(("text", "intent"), [("/reroll", Reroll(5)), ("/vary", Vary(5))])
def test_reroll_and_vary_default_to_the_replied_to_generation(text: str, intent: Intent) -> None:
    """Without an id, /reroll and /vary target the generation replied to."""
    assert route(text, reply_to_generation_id=5) == intent


@pytest.mark.parametrize("text", ["/reroll abc", "/vary #x", "/reroll 1 2"])
def test_reroll_and_vary_reject_a_bad_target(text: str) -> None:
    """A target that is not a number explains the expected form."""
    assert "picture number" in user_error(text)


@pytest.mark.parametrize(("text", "page"), [("/history", 1), ("/history 3", 3)])
def test_history_command(text: str, page: int) -> None:
    """/history shows page 1 unless a page is given."""
    assert route(text) == History(page=page)


@pytest.mark.parametrize("text", ["/history 0", "/history abc", "/history -1"])
def test_history_rejects_a_bad_page(text: str) -> None:
    """Pages are whole numbers from 1."""
    assert user_error(text) == "Pages start at 1, e.g. /history 2."


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/status", Status()),
        ("/cancel", Cancel()),
        ("/help", Help()),
        ("/help edit", Help(topic="edit")),
        ("/help --AR", Help(topic="ar")),
        ("/start", Help()),
        ("/start deep-link-payload", Help()),
    ],
)
def test_simple_commands(text: str, intent: Intent) -> None:
    """/status, /cancel, /help [topic] and /start (→ Help) route directly."""
    assert route(text) == intent


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("/settings", Settings()),
        ("/settings aspect 16:9", Settings(key="aspect", value="16:9")),
        ("/settings negative blurry, text", Settings(key="negative", value="blurry, text")),
        ("/settings Negative   blurry,\n text", Settings(key="negative", value="blurry, text")),
        ("/settings reset", Settings(key="reset")),
        ("/settings aspect", Settings(key="aspect")),
    ],
)
def test_settings_command(text: str, intent: Intent) -> None:
    """/settings shows, sets (key value...) or resets."""
    assert route(text) == intent


def test_settings_rejects_a_malformed_key() -> None:
    """A key that cannot be a setting name gets a usage hint."""
    assert "/settings aspect 16:9" in user_error("/settings 123 x")


def test_unknown_command_is_invalid_when_addressed() -> None:
    """An unknown command names itself and points to /help."""
    assert user_error("/paint a fox") == "I don't know /paint. Send /help to see what I can do."


def test_custom_command_prefix() -> None:
    """Configured prefixes such as "!" start commands too."""
    router = Router(RouterConfig(command_prefixes=("/", "!")))
    assert route("!imagine a fox", router=router) == Generate("a fox")


# -------------------------------------------------------------------------- groups, @names, addressing


def test_another_bots_command_is_ignored() -> None:
    """/imagine@OtherBot belongs to another bot."""
    assert route("/imagine@OtherBot a fox") == Ignore()


def test_known_command_routes_when_not_addressed() -> None:
    """In a group, commands still count when the message is not addressed to the bot."""
    assert route("/imagine a fox", addressed=False) == Generate("a fox")


def test_unknown_command_is_ignored_when_not_addressed() -> None:
    """An unknown bare command in a group may belong to another bot."""
    assert route("/poll lunch?", addressed=False) == Ignore()


def test_unknown_command_with_this_bots_suffix_is_invalid() -> None:
    """/foo@EaselBot is clearly for this bot, so it gets an explanation."""
    assert "I don't know /foo" in user_error("/foo@EaselBot", addressed=False)


def test_suffix_is_accepted_when_the_bot_name_is_unknown() -> None:
    """Without a configured bot_username, any @suffix on a known command is accepted."""
    assert route("/imagine@Whoever a fox", router=Router(RouterConfig())) == Generate("a fox")


def test_plain_text_is_ignored_when_not_addressed() -> None:
    """Group chatter not directed at the bot is ignored."""
    assert route("a red fox in the snow", addressed=False) == Ignore()


def test_image_with_caption_is_ignored_when_not_addressed() -> None:
    """A photo posted to a group for other people is ignored."""
    assert route("make it warmer", addressed=False, attachments=(PNG,)) == Ignore()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("@EaselBot a fox", Generate("a fox")),
        ("@easelbot, draw a castle", Generate("a castle")),
        ("@EaselBot: /status", Status()),
        ("@EaselBot", Help()),
    ],
)
def test_leading_mention_addresses_the_bot(text: str, intent: Intent) -> None:
    """A leading @mention of this bot counts as addressed and is removed from the text."""
    assert route(text, addressed=False) == intent


def test_mention_of_someone_else_is_ignored_when_not_addressed() -> None:
    """ "@bob a fox" in a group is not for the bot."""
    assert route("@bob a fox", addressed=False) == Ignore()


# --------------------------------------------------------------------------------------------- flags


@pytest.mark.parametrize(
    ("flags", "aspect"),
    [
        ("--ar 16:9", Aspect(16, 9)),
        ("--aspect 2:3", Aspect(2, 3)),
        ("--ar 16x9", Aspect(16, 9)),
        ("--ar 1:4", Aspect(1, 4)),
        ("--ar 4:1", Aspect(4, 1)),
        ("--ar 100:99", Aspect(100, 99)),
        ("--ar 4:2", Aspect(4, 2)),
        ("--ar square", Aspect(1, 1)),
        ("--ar portrait", Aspect(2, 3)),
        ("--ar landscape", Aspect(3, 2)),
        ("--ar wide", Aspect(16, 9)),
        ("--AR 16:9", Aspect(16, 9)),
        ("--ar=3:2", Aspect(3, 2)),
        ("--ar 16:9.", Aspect(16, 9)),
    ],
)
def test_aspect_flag(flags: str, aspect: Aspect) -> None:
    """--ar / --aspect accept W:H, WxH and a few words, kept as given."""
    assert options(flags).aspect == aspect


@pytest.mark.parametrize(
    "value", ["0:1", "9:0", "100:1", "1:5", "101:101", "abc", "16:9:1", "16", "-1:1", "1e3:1"]
)
def test_aspect_flag_rejects_bad_ratios(value: str) -> None:
    """Sides must be 1..100 and the ratio between 1:4 and 4:1."""
    assert user_error(f"/imagine a fox --aspect {value}").startswith("Aspect ratio must look like 16:9")


@pytest.mark.parametrize(("flags", "n"), [("--n 1", 1), ("--n 2", 2), ("--count 3", 3), ("--number 4", 4)])
def test_count_flag(flags: str, n: int) -> None:
    """--n / --count / --number set how many images to make."""
    assert options(flags).n == n


@pytest.mark.parametrize("value", ["0", "5", "99", "two", "-1", "1.5"])
def test_count_flag_rejects_out_of_range(value: str) -> None:
    """--n must be between 1 and the configured maximum."""
    assert user_error(f"/imagine a fox --n {value}") == "--n must be between 1 and 4."


def test_count_flag_follows_max_images() -> None:
    """The --n upper bound comes from the configuration."""
    router = Router(RouterConfig(max_images=8))
    assert route("/imagine a fox --n 8", router=router) == Generate("a fox", GenerationOptions(n=8))


@pytest.mark.parametrize(("value", "seed"), [("0", 0), ("42", 42), ("4294967295", 2**32 - 1)])
def test_seed_flag(value: str, seed: int) -> None:
    """--seed takes an integer from 0 to 2**32-1."""
    assert options(f"--seed {value}").seed == seed


@pytest.mark.parametrize("value", ["-1", "abc", "4294967296", "1.5", "99999999999999999999"])
def test_seed_flag_rejects_bad_values(value: str) -> None:
    """Negative, non-numeric and too-large seeds are rejected."""
    assert (
        user_error(f"/imagine a fox --seed {value}") == "--seed must be a whole number from 0 to 4294967295."
    )


def test_negative_flag_spans_words_up_to_the_next_flag() -> None:
    """--no takes every word up to the next flag."""
    intent = route("/imagine a fox --no text, watermark --ar 1:1")
    assert intent == Generate("a fox", GenerationOptions(negative="text, watermark", aspect=Aspect(1, 1)))


def test_negative_flag_runs_to_the_end() -> None:
    """--no at the end takes the rest of the message; --negative is an alias."""
    assert options("--negative blurry low quality hands").negative == "blurry low quality hands"


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ("--model sdxl-turbo", GenerationOptions(model="sdxl-turbo")),
        (
            "--model black-forest-labs/FLUX.1-schnell",
            GenerationOptions(model="black-forest-labs/FLUX.1-schnell"),
        ),
        ("--provider OpenAI", GenerationOptions(provider="openai")),
        ("--provider local:8080", GenerationOptions(provider="local:8080")),
        ("--quality HD", GenerationOptions(quality="hd")),
        ("--quality low", GenerationOptions(quality="low")),
    ],
)
def test_model_provider_and_quality_flags(flags: str, expected: GenerationOptions) -> None:
    """--model keeps its case; --provider and --quality are lowercased."""
    assert options(flags) == expected


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        ("--quality ultra", "--quality must be one of: low, medium, high, auto, standard, hd."),
        ("--provider open$ai", "--provider must be a name like 'openai' (letters, digits and . _ : / -)."),
        (
            "--model <script>",
            "--model must be a name like 'sdxl' or 'gpt-image-1' (letters, digits and . _ : / -).",
        ),
    ],
)
def test_model_provider_and_quality_reject_bad_values(flags: str, message: str) -> None:
    """Unknown qualities and names with odd characters are rejected."""
    assert user_error(f"/imagine a fox {flags}") == message


def test_unknown_flag_is_named_with_the_known_ones() -> None:
    """An unknown flag is named and the known flags are listed."""
    assert user_error("/imagine a fox --foo bar") == (
        "I don't know the flag --foo. Flags I know: --ar, --n, --seed, --no, --model, --provider, --quality."
    )


def test_unknown_flag_suggests_a_close_match() -> None:
    """A typo gets a "did you mean" hint."""
    assert "(did you mean --seed?)" in user_error("/imagine a fox --seeed 3")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("/imagine a fox --seed", "--seed needs a value, e.g. --seed 42."),
        ("/imagine a fox --ar", "--ar needs a value, e.g. --ar 16:9."),
        ("/imagine a fox --no", "--no needs a value, e.g. --no text, watermark."),
        ("/imagine a fox --seed --n 2", "--seed needs a value, e.g. --seed 42."),
        ("/imagine a fox --no --ar 1:1", "--no needs a value, e.g. --no text, watermark."),
    ],
)
def test_flag_without_value_is_invalid(text: str, message: str) -> None:
    """A flag at the end or followed by another flag is missing its value."""
    assert user_error(text) == message


@pytest.mark.parametrize("dash", ["\u2014", "\u2013"])
def test_em_and_en_dash_flags_count_as_double_dash(dash: str) -> None:
    """Phones turn "--" into a dash; "—ar" still works."""
    intent = route(f"/imagine a fox {dash}ar 16:9 {dash}no text")
    assert intent == Generate("a fox", GenerationOptions(aspect=Aspect(16, 9), negative="text"))


def test_dash_before_an_unknown_word_stays_in_the_prompt() -> None:
    """An em dash in prose ("—sleeping") is not mistaken for a flag."""
    assert route("/imagine a fox \u2014sleeping") == Generate("a fox \u2014sleeping")


def test_repeated_flag_last_wins() -> None:
    """When a flag is given twice, the last value is used."""
    assert options("--seed 1 --seed 2").seed == 2


def test_flags_may_stand_anywhere() -> None:
    """Flag-free words remain the prompt wherever the flags are."""
    assert route("/imagine --n 2 a fox --seed 3 in the snow") == Generate(
        "a fox in the snow", GenerationOptions(n=2, seed=3)
    )


# ------------------------------------------------------------------------------------ text hygiene


def test_prompt_whitespace_is_normalised() -> None:
    """Runs of spaces, tabs and newlines collapse to single spaces."""
    assert route("  /imagine   a \t red\n\n fox  ") == Generate("a red fox")


def test_zero_width_characters_are_removed() -> None:
    """Invisible characters pasted from the web do not reach the prompt."""
    assert route("/imagine a\u200b fox\ufeff") == Generate("a fox")


@pytest.mark.parametrize("text", ["", "   ", "\n\t"])
def test_empty_message_is_ignored(text: str) -> None:
    """Empty free text is ignored, not answered with an error."""
    assert route(text) == Ignore()


def test_prompt_at_the_limit_is_accepted() -> None:
    """A prompt of exactly max_prompt_chars is fine."""
    assert route("/imagine " + "a" * 1500) == Generate("a" * 1500)


def test_overlong_prompt_names_length_and_limit() -> None:
    """A prompt over the limit says how long it is and what the limit is."""
    assert user_error("/imagine " + "a" * 1501) == "Your prompt is 1,501 characters; the limit is 1,500."


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("/imagine " + "a" * 100_000, id="one-long-word"),
        pytest.param("/imagine " + "word " * 20_000, id="many-words"),
        pytest.param("a" * 100_000, id="free-text"),
        pytest.param("/imagine " + "\u2014" * 100_000, id="dashes"),
        pytest.param("/imagine a fox --no " + "x " * 50_000, id="long-negative"),
        pytest.param("/edit " + "make it warmer " * 7_000, id="long-edit"),
    ],
)
def test_huge_input_is_rejected_quickly(text: str) -> None:
    """A 100,000-character message is rejected in linear time, without echoing it back."""
    message = user_error(text)
    assert "characters; the limit is 1,500." in message
    assert len(message) < 100


def test_overlong_negative_prompt_is_rejected() -> None:
    """--no text has the same length limit as the prompt."""
    assert (
        user_error("/imagine a fox --no " + "x" * 1501)
        == "Your --no text is 1,501 characters; the limit is 1,500."
    )


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("/imagine", id="empty-prompt"),
        pytest.param("/imagine a fox --" + "z" * 5000, id="long-unknown-flag"),
        pytest.param("/imagine a fox --ar " + "9" * 5000, id="long-aspect"),
        pytest.param("/imagine a fox --seed " + "9" * 5000, id="long-seed"),
        pytest.param("/history " + "9" * 5000, id="long-page"),
        pytest.param("/reroll " + "x" * 5000, id="long-target"),
        pytest.param("/" + "x" * 30, id="unknown-command"),
        pytest.param("a fox --n 0", id="bad-count"),
    ],
)
def test_error_messages_are_short_and_never_echo_huge_input(text: str) -> None:
    """User-facing errors stay short and free of tracebacks."""
    message = user_error(text)
    assert len(message) < 200
    assert "Traceback" not in message


# ------------------------------------------------------------------------------ images and replies


def test_image_with_caption_is_an_edit_of_that_image() -> None:
    """A photo with a non-command caption edits the photo."""
    assert route("make it warmer", attachments=(PNG,)) == Edit("make it warmer", reference=PNG)


def test_image_without_type_counts_as_an_image() -> None:
    """Adapters may pass photos without a name or MIME type."""
    photo = Attachment(b"\xff\xd8\xff")
    assert route("add a hat", attachments=(photo,)) == Edit("add a hat", reference=photo)


def test_image_caption_flags_become_options() -> None:
    """Flags in a caption are parsed like anywhere else."""
    assert route("crop it --ar 16:9", attachments=(PNG,)) == Edit(
        "crop it", GenerationOptions(aspect=Aspect(16, 9)), reference=PNG
    )


@pytest.mark.parametrize("caption", ["", "   ", "please", "--ar 1:1"])
def test_image_without_caption_asks_what_to_change(caption: str) -> None:
    """A bare photo gets a question rather than a guess."""
    assert (
        user_error(caption, attachments=(PNG,))
        == "What should I change in this picture? e.g. 'make it warmer'."
    )


def test_non_image_attachment_does_not_make_an_edit() -> None:
    """A PDF with text is routed as the text alone."""
    assert route("a red fox", attachments=(PDF,)) == Generate("a red fox")


def test_image_with_command_caption_runs_the_command() -> None:
    """A command caption on a photo is still that command."""
    assert route("/imagine a fox", attachments=(PNG,)) == Generate("a fox")


@pytest.mark.parametrize("text", ["a red fox in the snow", "warmer", "portrait of an old sailor"])
def test_reply_to_a_generation_is_always_an_edit(text: str) -> None:
    """Free text replying to one of the bot's images edits that image, whatever it says."""
    assert route(text, reply_to_generation_id=9) == Edit(text, generation_id=9, from_free_text=True)


@pytest.mark.parametrize(
    ("text", "intent"), [("again", Reroll(9)), ("variations", Vary(9)), ("thanks!", Ignore())]
)
def test_reply_with_a_bare_word_targets_that_generation(text: str, intent: Intent) -> None:
    """Replying "again" / "variations" rerolls or varies that image; "thanks" is not an edit."""
    assert route(text, reply_to_generation_id=9) == intent


# -------------------------------------------------------------------------------------- free text


@pytest.mark.parametrize(
    ("text", "instruction"),
    [
        ("make it warmer", "make it warmer"),
        ("now at night", "at night"),
        ("try a 16:9 version", "try a 16:9 version"),
        ("add a hat", "add a hat"),
        ("remove the background", "remove the background"),
        ("more contrast", "more contrast"),
        ("less saturated", "less saturated"),
        ("warmer", "warmer"),
        ("black and white", "black and white"),
        ("same but with a red scarf", "same but with a red scarf"),
        ("change the sky to purple", "change the sky to purple"),
        ("turn it into a painting", "turn it into a painting"),
        ("zoom out", "zoom out"),
        ("crop it square", "crop it square"),
        ("again but bigger", "again but bigger"),
        ("can you make it brighter?", "make it brighter"),
        ("please make it darker", "make it darker"),
        ("Could you remove the dog, please", "remove the dog"),
        ("now, make it warmer", "make it warmer"),
        ("paint it blue", "paint it blue"),
        ("make the sky purple", "make the sky purple"),
        ("give it a hat", "give it a hat"),
        ("a bit warmer", "a bit warmer"),
        ("even more contrast", "even more contrast"),
        ("with a red scarf", "with a red scarf"),
        ("in the style of van gogh", "in the style of van gogh"),
        ("sepia", "sepia"),
        ("16:9", "16:9"),
        ("a darker version", "a darker version"),
        ("do it in 16:9 instead", "do it in 16:9 instead"),
        ("I want it brighter", "I want it brighter"),
        ("it's too dark", "it's too dark"),
    ],
)
def test_free_text_edit(text: str, instruction: str) -> None:
    """Edit-like free text becomes an Edit of the last image, politeness removed."""
    assert route(text) == Edit(instruction, from_free_text=True)


@pytest.mark.parametrize(
    ("text", "prompt"),
    [
        ("a red fox in the snow", "a red fox in the snow"),
        ("dragon over a castle at sunset", "dragon over a castle at sunset"),
        ("portrait of an old sailor", "portrait of an old sailor"),
        ("make a picture of a cat", "a cat"),
        ("make me a logo", "a logo"),
        ("draw a castle", "a castle"),
        ("cyberpunk city at night", "cyberpunk city at night"),
        ("please draw me a castle", "a castle"),
        ("can you draw a castle?", "a castle"),
        ("show me a dragon", "a dragon"),
        ("give me a cozy cabin", "a cozy cabin"),
        ("I want a picture of a red panda", "a red panda"),
        ("imagine a city made of glass", "a city made of glass"),
        ("generate an image of a koi pond", "a koi pond"),
        ("Create a logo for a coffee shop", "a logo for a coffee shop"),
        ("paint splatter background", "paint splatter background"),
        ("an astronaut riding a horse on mars", "an astronaut riding a horse on mars"),
        ("sunset over the ocean", "sunset over the ocean"),
        ("watercolor painting of a lighthouse", "watercolor painting of a lighthouse"),
        ("cat wearing a wizard hat", "cat wearing a wizard hat"),
        ("the eiffel tower made of cheese", "the eiffel tower made of cheese"),
        ("black cat on a windowsill", "black cat on a windowsill"),
        ("a little girl flying a kite", "a little girl flying a kite"),
        ("little red riding hood in a dark forest", "little red riding hood in a dark forest"),
        ("a castle with a red flag at sunset", "a castle with a red flag at sunset"),
        ("steampunk version of the eiffel tower", "steampunk version of the eiffel tower"),
        ("mountains at dawn, oil painting", "mountains at dawn, oil painting"),
    ],
)
def test_free_text_new_prompt(text: str, prompt: str) -> None:
    """Descriptions become a new Generate; a leading "draw me"/"make a picture of" is removed."""
    assert route(text) == Generate(prompt)


def test_free_text_request_verb_alone_is_invalid() -> None:
    """ "draw me" with nothing to draw asks what to draw."""
    assert user_error("draw me").startswith("Tell me what to draw")


@pytest.mark.parametrize(
    "text", ["again", "reroll", "another one", "one more", "Again!", "reroll please", "please try again"]
)
def test_free_text_reroll(text: str) -> None:
    """Bare "again"-style words reroll the last image."""
    assert route(text) == Reroll()


@pytest.mark.parametrize("text", ["vary", "variation", "variations", "some variations"])
def test_free_text_vary(text: str) -> None:
    """Bare "variations"-style words vary the last image."""
    assert route(text) == Vary()


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("thanks", Ignore()),
        ("ok", Ignore()),
        ("thank you!", Ignore()),
        ("hi", Help()),
        ("hey", Help()),
        ("help", Help()),
        ("cancel", Cancel()),
    ],
)
def test_free_text_small_talk(text: str, intent: Intent) -> None:
    """Thanks and acknowledgements are not drawn; greetings get help; "cancel" cancels."""
    assert route(text) == intent


def test_free_text_new_prompt_with_flags() -> None:
    """Flags in free text are parsed as for commands."""
    assert route("a fox --ar 16:9 --n 2") == Generate("a fox", GenerationOptions(aspect=Aspect(16, 9), n=2))


def test_free_text_edit_with_flags() -> None:
    """An edit-like message keeps its flags as options."""
    assert route("make it warmer --seed 3") == Edit(
        "make it warmer", GenerationOptions(seed=3), from_free_text=True
    )


def test_bare_word_with_flags_is_an_edit() -> None:
    """ "again --n 2" cannot be a plain reroll, so it becomes an edit carrying the flags."""
    assert route("again --n 2") == Edit("again", GenerationOptions(n=2), from_free_text=True)


def test_free_text_with_only_flags_is_invalid() -> None:
    """Flags without any words ask what to draw."""
    assert user_error("--ar 16:9").startswith("Tell me what to draw")


def test_free_text_bad_flag_is_invalid() -> None:
    """Flag errors in free text are reported as for commands."""
    assert user_error("a fox --n 0") == "--n must be between 1 and 4."


# ------------------------------------------------------------------------------------ configuration


@pytest.mark.parametrize(
    "fields",
    [{"max_images": 0}, {"max_prompt_chars": 0}, {"command_prefixes": ("",)}],
)
def test_router_config_rejects_nonsense(fields: dict[str, Any]) -> None:
    """Limits below 1 and empty prefixes are configuration errors."""
    with pytest.raises(ValueError, match="must be"):
        RouterConfig(**fields)


def test_edit_command_with_only_a_non_image_attachment_is_refused() -> None:
    """/edit with a PDF attached names the file instead of editing the last image."""
    with pytest.raises(InvalidInput) as caught:
        route("/edit make it warmer", attachments=(PDF,))
    assert "not an image" in caught.value.user_message
