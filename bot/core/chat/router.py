"""Route one ``Incoming`` message to an ``Intent``: commands, captions on images and free text.

Pure and synchronous: no I/O, no clock, no platform. Anything the router cannot act on raises
``InvalidInput`` with a short ``user_message``; messages not meant for the bot give ``Ignore()``.

Free text is classified with small word tables (below) rather than a model:
1. bare words: "again"/"reroll" → Reroll, "variations" → Vary, "thanks" → Ignore, "help" → Help;
2. a reply to one of the bot's images is an edit of that image;
3. otherwise ``looks_like_edit`` decides between an edit of the chat's last image ("make it warmer",
   "now at night", "add a hat") and a new prompt ("a red fox in the snow", "draw me a castle").
   The service falls back to a new prompt when the chat has no last image, so a wrong "edit" guess
   is cheap; a wrong "new prompt" guess is not, which is why edit cues are checked first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.core.errors import InvalidInput
from bot.core.flags import FlagLimits, ParsedText, check_storable, clip, parse_flags
from bot.core.types import (
    Attachment,
    BirthdayCommand,
    Cancel,
    Confirm,
    Edit,
    Generate,
    GenerationOptions,
    Help,
    History,
    Ignore,
    Incoming,
    Intent,
    Reroll,
    ScheduleCommand,
    Settings,
    Status,
    Vary,
)

__all__ = ["Router", "RouterConfig", "looks_like_edit"]

EXAMPLE = "/imagine a watercolor fox --ar 16:9"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_COMMAND = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,31})(?:@([A-Za-z0-9_]{1,64}))?")
_GENERATION_ID = re.compile(r"#?([0-9]{1,12})")
_DASHES = "/-\u2014\u2013"
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".avif")

# ------------------------------------------------------------------------------ free-text word tables


def _phrases(spec: str) -> frozenset[str]:
    """``"again|one more"`` → ``{"again", "one more"}`` (lowercased, as ``_key`` leaves words)."""
    return frozenset(p.strip() for p in spec.split("|"))


def _sequences(spec: str) -> tuple[tuple[str, ...], ...]:
    """``"can you|please"`` → ``(("can", "you"), ("please",))``: word sequences to match at a start."""
    return tuple(tuple(p.split()) for p in spec.split("|"))


POLITE_PREFIXES = _sequences(
    "please|pls|plz|kindly|ok|okay|alright|hey|hmm|now|and|also|can you|could you|would you|will you"
    "|can u|could u|i want you to"
)
POLITE_SUFFIXES = _sequences("please|pls|plz|thanks|thank you")
BARE_REROLL = _phrases(
    "reroll|re-roll|again|another|another one|one more|once more|retry|try again|redo|do it again|new seed"
)
BARE_VARY = _phrases("vary|variation|variations|variants|some variations|more variations|make variations")
BARE_HELP = _phrases("help|hi|hello|hey|start")
BARE_CANCEL = _phrases("cancel|stop")
BARE_ACK = _phrases("thanks|thank you|thx|ty|ok|okay|cool|nice|great|perfect")

# Verbs that start a request for a new picture ("draw a castle"). With an object pronoun right after
# them ("paint it blue") they edit instead. "make" is special: "make it warmer" / "make the sky purple"
# edit, while "make me a logo" / "make a picture of a cat" ask for something new.
CREATION_VERBS = _phrases(
    "draw|paint|imagine|generate|create|render|sketch|illustrate|design|make|color|colour"
)
NEW_AFTER_MAKE = _phrases("me|us|a|an|some|another|one|two|three|four|picture|pictures|image|images|pic|art")
REFERENCE_WORDS = _phrases("it|this|that|them|these|those|her|him|everything")
ARTICLES = _phrases("a|an|the|some|my|our|me|us")
REQUEST_LEADS = _sequences("i want|i'd like|i would like|show me|give me|give us")
FILLER_OBJECTS = _sequences("a picture of|an image of|a pic of")

EDIT_VERBS = _phrases(
    "add|remove|delete|erase|change|turn|replace|swap|put|move|shift|zoom|crop|rotate|flip|tilt|brighten"
    "|darken|lighten|sharpen|soften|blur|unblur|recolor|recolour|colorize|colourize|fix|increase|decrease"
    "|reduce|boost|enhance|adjust|tweak|try|keep|use|convert|extend|expand|upscale|saturate|desaturate"
    "|invert|shrink|enlarge|widen|stretch|redo|undo|retouch|apply|fill|give|show"
)
MODIFIERS = _phrases(
    "more|less|fewer|warmer|cooler|colder|hotter|brighter|darker|lighter|dimmer|bigger|larger|smaller|wider"
    "|narrower|taller|shorter|softer|sharper|crisper|clearer|cleaner|simpler|busier|happier|sadder|scarier"
    "|creepier|cuter|calmer|moodier|richer|bolder|subtler|stronger|weaker|thicker|thinner|redder|bluer"
    "|greener|pinker|grayer|greyer|nicer|prettier"
)
CONTINUATIONS = _phrases("same|but|again|instead|otherwise|except")
PREPOSITIONS = _phrases("in|at|on|with|without|as|during|under|inside|into")
MAX_PREPOSITION_EDIT_WORDS = 6  # "at night", "with a red scarf"; longer ones read as scene descriptions
STYLE_ONLY = _phrases(
    "black and white|black & white|b&w|bw|grayscale|greyscale|monochrome|sepia|blurry|blurred|pixelated"
    "|inverted|mirrored|flipped|zoomed out|zoomed in|cropped|upscaled|square|widescreen"
)
INTENSIFIERS = _sequences(
    "a bit|a little|a lot|a tad|slightly|much|even|way|far|somewhat|just|bit|lot|little|really|very|quite"
)
_ASPECT_WORD = re.compile(r"[0-9]{1,3}[:x][0-9]{1,3}")


def _key(word: str) -> str:
    return word.lower().strip(".,;:!?\"'()[]…")


def _drop_prefixes(keys: Sequence[str], prefixes: Sequence[tuple[str, ...]]) -> int:
    """How many leading words of ``keys`` are made of ``prefixes`` (repeatedly)."""
    start, found = 0, True
    while found:
        found = False
        for prefix in prefixes:
            if tuple(keys[start : start + len(prefix)]) == prefix:
                start, found = start + len(prefix), True
                break
    return start


def looks_like_edit(words: Sequence[str]) -> bool:
    """Whether free text (politeness already stripped) reads as a change to the last image."""
    keys = [_key(w) for w in words]
    keys = keys[_drop_prefixes(keys, INTENSIFIERS) :] or keys
    first, second = keys[0], keys[1] if len(keys) > 1 else ""
    if first in CREATION_VERBS:
        if first == "make":
            return bool(second) and second not in NEW_AFTER_MAKE
        return second in REFERENCE_WORDS
    if first in {"give", "show"} and second in {"me", "us"}:
        return False
    if first in EDIT_VERBS or first in MODIFIERS or first in CONTINUATIONS:
        return True
    if first in PREPOSITIONS and len(keys) <= MAX_PREPOSITION_EDIT_WORDS:
        return True
    if " ".join(keys) in STYLE_ONLY or (len(keys) == 1 and _ASPECT_WORD.fullmatch(first)):
        return True
    pairs = list(zip(keys, [*keys[1:], ""], strict=True))
    return (
        "instead" in keys
        or "too" in keys[:3]  # "too dark", "it's too busy"
        or ("this", "time") in pairs
        or ("same", "but") in pairs
        or any(a == "version" and b != "of" for a, b in pairs)
        or any(a in {"it", "this", "that"} and b in MODIFIERS for a, b in pairs)
    )


def _strip_politeness(words: Sequence[str]) -> list[str]:
    """Drop "please", "can you", "now," ... around the request, and a trailing "?" or comma."""
    out = list(words[_drop_prefixes([_key(w) for w in words], POLITE_PREFIXES) :])
    for suffix in POLITE_SUFFIXES:
        if len(out) > len(suffix) and tuple(_key(w) for w in out[-len(suffix) :]) == suffix:
            del out[-len(suffix) :]
            break
    if out:
        out[-1] = out[-1].rstrip(",;?!")
        if not out[-1]:
            out.pop()
    return out


def _strip_request(words: Sequence[str]) -> list[str]:
    """ "draw me a castle" → "a castle"; "make a picture of a cat" → "a cat"; "paint splatter" stays."""
    keys = [_key(w) for w in words]
    start = _drop_prefixes(keys, REQUEST_LEADS)
    if start == 0 and len(keys) > 1 and keys[0] in CREATION_VERBS and keys[1] in ARTICLES:
        start = 1
    if start and start < len(keys) and keys[start] in {"me", "us"}:
        start += 1
    if start:
        start += _drop_prefixes(keys[start:], FILLER_OBJECTS)
    return list(words[start:])


def _is_image(attachment: Attachment) -> bool:
    if attachment.mime:
        return attachment.mime.lower().startswith("image/")
    if attachment.filename and "." in attachment.filename:
        return attachment.filename.lower().endswith(_IMAGE_SUFFIXES)
    return True  # adapters pass photos without a name or type; the service checks the bytes


def _first_image(message: Incoming, *, strict: bool = False) -> Attachment | None:
    """The first image attached; with ``strict``, only non-image attachments are refused."""
    image = next((a for a in message.attachments if _is_image(a)), None)
    if strict and image is None and message.attachments:
        name = message.attachments[0].filename or "That file"
        raise InvalidInput(
            f"non-image attachment {clip(name)!r}",
            user_message=f"{clip(name)} is not an image I can edit (PNG, JPEG, WebP or GIF).",
        )
    return image


def _subcommand(args: str) -> tuple[str, str]:
    """ "add every day at 9:00 a fox" → ("add", "every day at 9:00 a fox"); no words → ("list", "")."""
    action, _, rest = args.partition(" ")
    return action.lstrip(_DASHES).lower() or "list", rest.strip()


@dataclass(frozen=True, slots=True)
class RouterConfig:
    max_prompt_chars: int = 1500
    max_images: int = 4
    """Upper bound for ``--n`` (settings ``generation.max_images``)."""
    bot_username: str | None = None
    """For "/imagine@EaselBot" and "@EaselBot a fox"; None accepts any "@suffix" on known commands."""
    command_prefixes: tuple[str, ...] = ("/",)

    def __post_init__(self) -> None:
        if self.max_prompt_chars < 1 or self.max_images < 1 or not all(self.command_prefixes):
            raise ValueError("max_prompt_chars and max_images must be >= 1; prefixes must be non-empty")


class Router:
    """``route(message)`` → ``Intent``; raises ``InvalidInput`` with a user-facing message."""

    def __init__(self, config: RouterConfig) -> None:
        self._config = config
        self._limits = FlagLimits(max_images=config.max_images, max_negative_chars=config.max_prompt_chars)
        name = (config.bot_username or "").lstrip("@").lower()
        self._username = name or None
        generate = self._generate
        self._commands: dict[str, Callable[[str, Incoming], Intent]] = {
            "imagine": generate, "img": generate, "draw": generate, "generate": generate,
            "edit": self._edit,
            "reroll": lambda args, m: Reroll(self._target(args, m, "/reroll")),
            "vary": lambda args, m: Vary(self._target(args, m, "/vary")),
            "history": lambda args, m: History(self._page(args)),
            "status": lambda args, m: Status(),
            "cancel": lambda args, m: Cancel(),
            "confirm": lambda args, m: Confirm(),
            "help": lambda args, m: Help(args.split(" ")[0].lstrip(_DASHES).lower() or None),
            "start": lambda args, m: Help(),
            "settings": lambda args, m: self._settings(args),
            "schedule": lambda args, m: ScheduleCommand(*_subcommand(args)),
            "birthday": lambda args, m: BirthdayCommand(*_subcommand(args)),
        }  # fmt: skip

    def route(self, message: Incoming, *, addressed: bool = True) -> Intent:
        """``addressed=False``: a group message not directed at the bot; only commands count then."""
        text = " ".join(check_storable(message.text).translate(_ZERO_WIDTH).split())
        text, mentioned = self._strip_mention(text)
        for prefix in self._config.command_prefixes:
            if text.startswith(prefix):
                head, _, args = text[len(prefix) :].partition(" ")
                match = _COMMAND.fullmatch(head)
                if match:
                    return self._command(prefix, match[1].lower(), match[2], args, message, addressed)
        if not (addressed or mentioned):
            return Ignore()
        return self._free_text(text, message, mentioned=mentioned)

    # ---------------------------------------------------------------------------------- commands

    def _command(
        self, prefix: str, name: str, suffix: str | None, args: str, message: Incoming, addressed: bool
    ) -> Intent:
        for_us = suffix is not None and self._username is not None and suffix.lower() == self._username
        if suffix is not None and self._username is not None and not for_us:
            return Ignore()  # "/imagine@OtherBot": another bot's command
        handler = self._commands.get(name)
        if handler is not None:
            return handler(args, message)
        if not (addressed or for_us):
            return Ignore()  # may belong to another bot in the group
        raise InvalidInput(
            f"unknown command {prefix}{name}",
            user_message=f"I don't know {prefix}{name}. Send {prefix}help to see what I can do.",
        )

    def _generate(self, args: str, message: Incoming) -> Generate:
        parsed = self._parse(args, "prompt")
        if not parsed.words:
            raise InvalidInput("empty prompt", user_message=f"Tell me what to draw, e.g. {EXAMPLE}")
        return Generate(prompt=parsed.text, options=parsed.options)

    def _edit(self, args: str, message: Incoming) -> Edit:
        first, _, rest = args.partition(" ")
        target = _GENERATION_ID.fullmatch(first)
        parsed = self._parse(rest if target else args, "instruction")
        if not parsed.words:
            raise InvalidInput(
                "empty edit instruction",
                user_message="Tell me what to change, e.g. /edit make it warmer (reply to an image or "
                "attach one; otherwise I edit your last picture).",
            )
        return Edit(
            instruction=parsed.text,
            options=parsed.options,
            generation_id=int(target[1]) if target else message.reply_to_generation_id,
            reference=_first_image(message, strict=True),
        )

    @staticmethod
    def _target(args: str, message: Incoming, command: str) -> int | None:
        if not args:
            return message.reply_to_generation_id
        match = _GENERATION_ID.fullmatch(args)
        if match is None:
            raise InvalidInput(
                f"bad {command} target {clip(args)!r}",
                user_message=f"{command} takes an optional picture number, e.g. {command} #12.",
            )
        return int(match[1])

    @staticmethod
    def _page(args: str) -> int:
        if not args:
            return 1
        if re.fullmatch(r"[0-9]{1,6}", args) and int(args) >= 1:
            return int(args)
        raise InvalidInput(
            f"bad history page {clip(args)!r}", user_message="Pages start at 1, e.g. /history 2."
        )

    @staticmethod
    def _settings(args: str) -> Settings:
        if not args:
            return Settings()
        key, _, value = args.partition(" ")
        key = key.lstrip(_DASHES).lower()
        if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,39}", key):
            raise InvalidInput(
                f"bad settings key {clip(key)!r}",
                user_message="Use /settings to see your settings, or e.g. /settings aspect 16:9.",
            )
        return Settings(key=key, value=value or None)

    # --------------------------------------------------------------------------------- free text

    def _free_text(self, text: str, message: Incoming, *, mentioned: bool) -> Intent:
        image = _first_image(message)
        if image is not None:
            parsed = self._parse(text, "instruction")
            words = _strip_politeness(parsed.words)
            if not words:
                raise InvalidInput(
                    "image without instruction",
                    user_message="What should I change in this picture? e.g. 'make it warmer'.",
                )
            return Edit(instruction=" ".join(words), options=parsed.options, reference=image)
        if not text:
            return Help() if mentioned else Ignore()
        parsed = self._parse(text, "prompt")
        words = _strip_politeness(parsed.words)
        reply_to = message.reply_to_generation_id
        if parsed.options == GenerationOptions():
            bare = self._bare(" ".join(_key(w) for w in words) or " ".join(map(_key, parsed.words)), reply_to)
            if bare is not None:
                return bare
        if not words:
            raise InvalidInput("empty prompt", user_message=f"Tell me what to draw, e.g. {EXAMPLE}")
        if reply_to is not None or looks_like_edit(words):
            return Edit(" ".join(words), parsed.options, generation_id=reply_to, from_free_text=True)
        prompt = _strip_request(words)
        if not prompt:
            raise InvalidInput("empty prompt", user_message=f"Tell me what to draw, e.g. {EXAMPLE}")
        return Generate(prompt=" ".join(prompt), options=parsed.options)

    @staticmethod
    def _bare(phrase: str, reply_to: int | None) -> Intent | None:
        """Whole-message phrases: "again" → Reroll, "variations" → Vary, "thanks" → Ignore, ..."""
        if phrase in BARE_REROLL:
            return Reroll(reply_to)
        if phrase in BARE_VARY:
            return Vary(reply_to)
        if phrase in BARE_ACK:
            return Ignore()
        if phrase in BARE_CANCEL:
            return Cancel()
        if phrase in BARE_HELP:
            return Help()
        return None

    # ----------------------------------------------------------------------------------- helpers

    def _strip_mention(self, text: str) -> tuple[str, bool]:
        """ "@EaselBot, a fox" → ("a fox", True) when EaselBot is this bot."""
        if self._username is None or not text.startswith("@"):
            return text, False
        head, _, rest = text.partition(" ")
        if head[1:].rstrip(",:;!").lower() != self._username:
            return text, False
        return rest, True

    def _parse(self, text: str, what: str) -> ParsedText:
        parsed = parse_flags(text, self._limits)
        length, limit = len(parsed.text), self._config.max_prompt_chars
        if length > limit:
            raise InvalidInput(
                f"{what} too long ({length} > {limit})",
                user_message=f"Your {what} is {length:,} characters; the limit is {limit:,}.",
            )
        return parsed
