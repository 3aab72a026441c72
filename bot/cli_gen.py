"""``easel gen``: one request from the command line, each saved image's path on stdout."""

from __future__ import annotations

import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated

import typer

from bot.app import open_easel
from bot.cli_common import check_provider, err, friendly, quiet_logging, settings_of
from bot.cli_common import run as run_coroutine
from bot.core.chat.router import Router, RouterConfig
from bot.core.errors import ImageError, InvalidInput
from bot.core.imaging import image_size
from bot.core.messages import Attachment, Incoming
from bot.core.types import JobEvent, Progress, Reply, Started, Target
from bot.settings import AppSettings

MAX_EDIT_FILE_BYTES = 20_000_000


def gen_commands(app: typer.Typer) -> None:
    """Register ``gen`` on the ``easel`` command."""
    app.command()(gen)


class _CliPlatform:
    """The ``cli`` platform of one ``easel gen``: keeps the replies, shows progress on stderr."""

    name = "cli"

    def __init__(self) -> None:
        self.replies: list[Reply] = []

    async def send(self, target: Target, reply: Reply) -> list[str]:
        self.replies.append(reply)
        return [f"cli-{len(self.replies)}"]

    async def delete(self, target: Target, message_ids: Sequence[str]) -> None:
        """A printed path cannot be taken back."""

    async def event(self, target: Target, job_id: int, event: JobEvent) -> None:
        if isinstance(event, Started):
            err.print(f"generating with {event.provider}…")
        elif isinstance(event, Progress) and 0 < event.fraction < 1:
            err.print(f"  {event.fraction:.0%}")


@friendly
def gen(
    ctx: typer.Context,
    prompt: Annotated[str, typer.Argument(help="What to draw (with --edit: how to change the image).")],
    aspect: Annotated[str | None, typer.Option("--aspect", "--ar", help="Aspect ratio, e.g. 16:9.")] = None,
    n: Annotated[int | None, typer.Option("--n", "-n", help="How many images.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed; the same seed and prompt repeat the image.")] = None,
    negative: Annotated[str | None, typer.Option("--no", "--negative", help="What to avoid.")] = None,
    model: Annotated[str | None, typer.Option(help="Model name for the provider.")] = None,
    provider: Annotated[str | None, typer.Option(help="Use this provider for this image.")] = None,
    quality: Annotated[str | None, typer.Option(help="low, medium, high, ...")] = None,
    edit: Annotated[
        Path | None, typer.Option(help="An image file to edit; PROMPT is the instruction.")
    ] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Also copy the images here.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v")] = False,
) -> None:
    """Generate (or edit) images and print each saved file's absolute path on its own line.

    Everything given on the command line is checked before anything is generated (exit 2: a bad
    value, an edit file that is not a readable image, an --out that cannot take files); exit 1 when
    the request itself could not be done (refused, every provider failed, no database)."""
    settings = settings_of(ctx)
    quiet_logging(settings, verbose=verbose)
    flags = {"--ar": aspect, "--n": n, "--seed": seed, "--no": negative, "--model": model}
    flags |= {"--provider": provider, "--quality": quality}
    text = " ".join(
        [f"/{'edit' if edit else 'imagine'} {prompt}"]
        + [f"{k} {v}" for k, v in flags.items() if v is not None]
    )
    attachments = (_read_edit_file(edit),) if edit else ()
    message = Incoming(
        platform="cli", chat_id="cli", user_id="cli", display_name="cli", text=text, attachments=attachments
    )
    generation = settings.generation
    router = Router(
        RouterConfig(max_prompt_chars=generation.max_prompt_chars, max_images=generation.max_images)
    )
    router.route(message)  # InvalidInput (a bad flag, an empty or overlong prompt): exit 2, nothing made
    if provider is not None:
        check_provider(settings, provider)
    if out is not None:
        _check_out(out)
    replies = run_coroutine(_generate(settings, message))
    failed = False
    for reply in replies:
        if reply.is_error:
            err.print(f"error: {reply.text}", style="red", soft_wrap=True)
            failed = True
            continue
        for note in reply.notes:
            err.print(f"note: {note}", soft_wrap=True)
        for index, image in enumerate(reply.images, start=1):
            path = image.path
            if out is not None:
                path = _copy_out(image.path, out / f"easel-{reply.generation_id}-{index}{image.path.suffix}")
            typer.echo(str(path.resolve()))
    if failed:
        raise typer.Exit(1)


def _check_out(out: Path) -> None:
    """``--out DIR`` is a directory Easel can write in (made if missing), before anything is generated."""
    if out.exists() and not out.is_dir():
        raise InvalidInput(
            f"{out} is not a directory", user_message=f"--out {out} is a file, not a directory."
        )
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidInput(
            str(exc), user_message=f"--out {out}: cannot make that directory ({exc.strerror or exc})."
        ) from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise InvalidInput(
            f"{out} not writable", user_message=f"--out {out}: cannot write in that directory."
        )


def _copy_out(source: Path, destination: Path) -> Path:
    """The image copied to ``--out``; a failure now (the disk filled up meanwhile) is one line, exit 1."""
    try:
        shutil.copyfile(source, destination)
    except OSError as exc:
        err.print(f"error: cannot copy {source} to {destination}: {exc.strerror or exc}", style="red")
        raise typer.Exit(1) from exc
    return destination


def _read_edit_file(path: Path) -> Attachment:
    """The image to edit, read and its header checked: a file that is missing, unreadable, too large
    or not an image is a problem of the command line (exit 2)."""
    try:
        size = path.stat().st_size
        if size > MAX_EDIT_FILE_BYTES:
            raise InvalidInput(
                f"{path} is {size} bytes", user_message=f"{path} is too large (20 MB at most)."
            )
        data = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(str(exc), user_message=f"Cannot read {path}: {exc.strerror}.") from exc
    try:
        image_size(data)
    except ImageError as exc:
        raise InvalidInput(
            str(exc), user_message=f"{path} is not an image I can read (PNG, JPEG, WebP or GIF)."
        ) from exc
    return Attachment(data=data, filename=path.name)


async def _generate(settings: AppSettings, message: Incoming) -> list[Reply]:
    cli = _CliPlatform()
    async with open_easel(settings, platforms={cli.name: cli}, recover=False) as easel:
        job_id = await easel.service.handle(message)
        if job_id is not None:
            await easel.queue.wait_for(job_id)
    return cli.replies
