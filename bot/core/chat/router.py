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

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.chat.free_text import (
    BARE_ACK,
    BARE_CANCEL,
    BARE_HELP,
    BARE_REROLL,
    BARE_VARY,
    key,
    looks_like_edit,
    strip_politeness,
    strip_request,
)
from bot.core.errors import InvalidInput
from bot.core.flags import FlagLimits, ParsedText, check_storable, clip, parse_flags, typed_options
from bot.core.i18n import N_, _
from bot.core.messages import (
    Attachment,
    BanCommand,
    BirthdayCommand,
    Cancel,
    Confirm,
    Delete,
    Edit,
    Generate,
    GenerationOptions,
    Help,
    Hide,
    History,
    Ignore,
    Incoming,
    Intent,
    Reroll,
    ScheduleCommand,
    Settings,
    Status,
    Upscale,
    Vary,
)

__all__ = ["Router", "RouterConfig", "looks_like_edit"]

EXAMPLE = "/imagine a watercolor fox --ar 16:9"
_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff"))
_COMMAND = re.compile(r"([A-Za-z][A-Za-z0-9_]{0,31})(?:@([A-Za-z0-9_]{1,64}))?")
_GENERATION_ID = re.compile(r"#?([0-9]{1,12})(?:/([0-9]{1,3}))?")
"""``#12``, or ``#12/2`` for the second image of #12's set (``/vary #12/2``, ``/edit #12/2 ...``)."""
_DASHES = "/-\u2014\u2013"
DELETE_WHICH = N_("Which image? Reply to it with /delete, or name it: /delete #12.")
WHICH = N_("Which image? Reply to it with {command}, or name it: {command} #12.")
GUILD_WORD = "guild"
"""``/ban guild ...``: the server's ban list rather than the chat's."""
MAX_IMAGE_NUMBER = 99
"""The largest image number ``#12/n`` may name (the core checks it against the set)."""
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".tif", ".tiff", ".heic", ".avif")


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
        name = message.attachments[0].filename or _("That file")
        raise InvalidInput(
            f"non-image attachment {clip(name)!r}",
            user_message=_("{name} is not an image I can edit (PNG, JPEG, WebP or GIF).").format(
                name=clip(name)
            ),
        )
    return image


def _as_values(options: GenerationOptions) -> dict[str, object]:
    """Options back to flag values (for checking against the configured limits)."""
    values = {f.name: getattr(options, f.name) for f in dataclasses.fields(options)}
    return {k: str(v) for k, v in values.items() if v is not None}


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
            "reroll": lambda args, m: Reroll(self._target(args, m, "/reroll", images=False)[0]),
            "vary": lambda args, m: Vary(*self._target(args, m, "/vary")),
            "upscale": lambda args, m: Upscale(*self._target(args, m, "/upscale")),
            "history": lambda args, m: History(self._page(args)),
            "status": lambda args, m: Status(),
            "cancel": lambda args, m: Cancel(),
            "confirm": lambda args, m: Confirm(),
            "help": lambda args, m: Help(args.split(" ")[0].lstrip(_DASHES).lower() or None),
            "start": lambda args, m: Help(),
            "settings": lambda args, m: self._settings(args),
            "ban": lambda args, m: self._ban(args),
            "delete": lambda args, m: Delete(self._named(args, m, "/delete")),
            "hide": lambda args, m: Hide(self._named(args, m, "/hide")),
            "unhide": lambda args, m: Hide(self._named(args, m, "/unhide"), hidden=False),
            "schedule": lambda args, m: ScheduleCommand(*_subcommand(args)),
            "birthday": lambda args, m: BirthdayCommand(*_subcommand(args)),
        }  # fmt: skip

    def check(self, intent: Intent) -> Intent:
        """A typed intent (slash-command options, a button, a form) held to the rules a routed one
        meets: text length and characters, ``--n`` and ``--no`` within the configured limits. Flags
        written inside a typed prompt (``a fox --ar 16:9``) count too; a typed option wins over them."""
        match intent:
            case Generate(prompt=text, options=options) | Edit(instruction=text, options=options):
                what = "prompt" if isinstance(intent, Generate) else "instruction"
                parsed = self._parse(check_storable(text), what)
                if not parsed.words:
                    raise InvalidInput(
                        f"empty {what}",
                        user_message=_("Tell me what to draw, e.g. {example}").format(example=EXAMPLE),
                    )
                typed = _as_values(options)
                merged = typed_options(_as_values(parsed.options) | typed, self._limits)
                if isinstance(intent, Generate):
                    return dataclasses.replace(intent, prompt=parsed.text, options=merged)
                return dataclasses.replace(intent, instruction=parsed.text, options=merged)
        return intent

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
            user_message=_("I don't know {command}. Send {help} to see what I can do.").format(
                command=f"{prefix}{name}", help=f"{prefix}help"
            ),
        )

    def _generate(self, args: str, message: Incoming) -> Generate:
        parsed = self._parse(args, "prompt")
        if not parsed.words:
            raise InvalidInput(
                "empty prompt", user_message=_("Tell me what to draw, e.g. {example}").format(example=EXAMPLE)
            )
        return Generate(prompt=parsed.text, options=parsed.options)

    def _edit(self, args: str, message: Incoming) -> Edit:
        first, _sep, rest = args.partition(" ")
        target = _GENERATION_ID.fullmatch(first)
        generation, image = self._target(first, message, "/edit") if target else self._replied(message)
        parsed = self._parse(rest if target else args, "instruction")
        if not parsed.words:
            raise InvalidInput(
                "empty edit instruction",
                user_message=_(
                    "Tell me what to change, e.g. /edit make it warmer (reply to an image or "
                    "attach one; otherwise I edit your last picture)."
                ),
            )
        return Edit(
            instruction=parsed.text,
            options=parsed.options,
            generation_id=generation,
            reference=_first_image(message, strict=True),
            image=image,
        )

    def _named(self, args: str, message: Incoming, command: str) -> int:
        """``/delete #12`` (``/hide``, ``/unhide``), or the command in reply to one of the bot's images:
        a whole generation, never "the last one"."""
        generation = self._target(args, message, command, images=False)[0]
        if generation is None:
            which = _(DELETE_WHICH) if command == "/delete" else _(WHICH).format(command=command)
            raise InvalidInput(f"{command} of nothing", user_message=which)
        return generation

    @staticmethod
    def _ban(args: str) -> BanCommand:
        """``/ban add fox`` → ``BanCommand("add", "fox")``; ``/ban guild remove 2`` → the server's list."""
        action, rest = _subcommand(args)
        if action != GUILD_WORD:
            return BanCommand(action, rest)
        return BanCommand(*_subcommand(rest), guild=True)

    @staticmethod
    def _replied(message: Incoming) -> tuple[int | None, int | None]:
        """The generation (and the image of its set) the message replies to, if any."""
        generation = message.reply_to_generation_id
        return generation, message.reply_to_image if generation is not None else None

    @classmethod
    def _target(
        cls, args: str, message: Incoming, command: str, *, images: bool = True
    ) -> tuple[int | None, int | None]:
        """``#12`` or ``#12/2`` (with ``images``) → (12, 1); nothing → the replied generation."""
        if not args:
            return cls._replied(message) if images else (message.reply_to_generation_id, None)
        match = _GENERATION_ID.fullmatch(args)
        example = f"{command} #12/2" if images else f"{command} #12"
        if match is None or (match[2] is not None and not images):
            raise InvalidInput(
                f"bad {command} target {clip(args)!r}",
                user_message=_("{command} takes an optional picture number, e.g. {example}.").format(
                    command=command, example=example
                ),
            )
        if match[2] is None:
            return int(match[1]), None
        number = int(match[2])
        if not 1 <= number <= MAX_IMAGE_NUMBER:
            raise InvalidInput(
                f"bad {command} image {number}",
                user_message=_("Images of a set are numbered from 1, e.g. {example}.").format(
                    example=f"{command} #{match[1]}/2"
                ),
            )
        return int(match[1]), number - 1

    @staticmethod
    def _page(args: str) -> int:
        if not args:
            return 1
        if re.fullmatch(r"[0-9]{1,6}", args) and int(args) >= 1:
            return int(args)
        raise InvalidInput(
            f"bad history page {clip(args)!r}", user_message=_("Pages start at 1, e.g. /history 2.")
        )

    @staticmethod
    def _settings(args: str) -> Settings:
        if not args:
            return Settings()
        key, _sep, value = args.partition(" ")
        key = key.lstrip(_DASHES).lower()
        if not re.fullmatch(r"[a-z][a-z0-9_.-]{0,39}", key):
            raise InvalidInput(
                f"bad settings key {clip(key)!r}",
                user_message=_("Use /settings to see your settings, or e.g. /settings aspect 16:9."),
            )
        return Settings(key=key, value=value or None)

    # --------------------------------------------------------------------------------- free text

    def _free_text(self, text: str, message: Incoming, *, mentioned: bool) -> Intent:
        image = _first_image(message)
        if image is not None:
            parsed = self._parse(text, "instruction")
            words = strip_politeness(parsed.words)
            if not words:
                raise InvalidInput(
                    "image without instruction",
                    user_message=_("What should I change in this picture? e.g. 'make it warmer'."),
                )
            return Edit(instruction=" ".join(words), options=parsed.options, reference=image)
        if not text:
            return Help() if mentioned else Ignore()
        parsed = self._parse(text, "prompt")
        words = strip_politeness(parsed.words)
        reply_to, shown = self._replied(message)
        if parsed.options == GenerationOptions():
            phrase = " ".join(key(w) for w in words) or " ".join(map(key, parsed.words))
            bare = self._bare(phrase, reply_to, shown)
            if bare is not None:
                return bare
        if not words:
            raise InvalidInput(
                "empty prompt", user_message=_("Tell me what to draw, e.g. {example}").format(example=EXAMPLE)
            )
        if reply_to is not None or looks_like_edit(words):
            return Edit(
                " ".join(words), parsed.options, generation_id=reply_to, from_free_text=True, image=shown
            )
        prompt = strip_request(words)
        if not prompt:
            raise InvalidInput(
                "empty prompt", user_message=_("Tell me what to draw, e.g. {example}").format(example=EXAMPLE)
            )
        return Generate(prompt=" ".join(prompt), options=parsed.options)

    @staticmethod
    def _bare(phrase: str, reply_to: int | None, image: int | None) -> Intent | None:
        """Whole-message phrases: "again" → Reroll, "variations" → Vary, "thanks" → Ignore, ..."""
        if phrase in BARE_REROLL:
            return Reroll(reply_to)
        if phrase in BARE_VARY:
            return Vary(reply_to, image=image)
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
                user_message=(
                    _("Your prompt is {length} characters; the limit is {limit}.")
                    if what == "prompt"
                    else _("Your instruction is {length} characters; the limit is {limit}.")
                ).format(length=f"{length:,}", limit=f"{limit:,}"),
            )
        return parsed
