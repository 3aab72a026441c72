"""What the fake's users do: run slash and message commands, type into autocomplete, press buttons, submit
forms and post messages. Each becomes the INTERACTION_CREATE or MESSAGE_CREATE payload Discord sends.

A command is offered only where Discord would show it: a guild's own commands in that guild, global
ones elsewhere too (guild commands have no DM context), and only in the ``contexts`` it was registered
with (absent: all) for an installation it supports (``integration_types``, absent: the guild install)
that exists there (see :mod:`.discord_world`); otherwise the test's action fails (AssertionError), as a
user could not have done it. Messages reach the bot only from guilds it is in and its own DMs."""

from __future__ import annotations

import abc
from typing import Any

from tests.fakes.discord_world import BOT_ID, CHANNEL, EVERYONE_PERMISSIONS, USER, Interaction, World


class UserActions(abc.ABC):
    """Mixed into :class:`tests.fakes.discord.FakeDiscord`, which provides the attributes below."""

    world: World
    commands: dict[int | None, list[dict[str, Any]]]

    @property
    @abc.abstractmethod
    def origin(self) -> str: ...

    @abc.abstractmethod
    def _dispatch(self, event: str, data: dict[str, Any]) -> None: ...

    def slash(
        self,
        name: str,
        options: dict[str, Any] | None = None,
        *,
        user: int = USER,
        channel: int = CHANNEL,
        permissions: int = EVERYONE_PERMISSIONS,
        attachment: tuple[str, bytes] | None = None,
        filesize_limit: int | None = None,
        app_permissions: int | None = None,
    ) -> Interaction:
        """A user runs a synced slash command; ``attachment`` fills the option named ``image``;
        ``app_permissions`` are the bot's own permissions in the channel."""
        command = self._command(name, 1, channel)
        state, payload = self.world.interaction_base(
            2,
            user_id=user,
            channel_id=channel,
            permissions=permissions,
            filesize_limit=filesize_limit,
            owners=self._owners(command, user, channel),
        )
        if app_permissions is not None:
            payload["app_permissions"] = str(app_permissions)
        data: dict[str, Any] = {"id": command["id"], "name": name, "type": 1, "options": []}
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        types = {o["name"]: o["type"] for o in command.get("options", [])}
        for key, value in (options or {}).items():
            if key not in types:
                raise AssertionError(f"/{name} has no option {key!r}; it has {sorted(types)}")
            data["options"].append({"name": key, "type": types[key], "value": value})
        if attachment is not None:
            filename, blob = attachment
            stored = self.world.attachment(blob, filename, "image/png", self.origin)
            data["options"].append({"name": "image", "type": 11, "value": stored["id"]})
            data["resolved"] = {"attachments": {stored["id"]: stored}}
        payload["data"] = data
        self._dispatch("INTERACTION_CREATE", payload)
        return state

    def autocomplete(self, name: str, option: str, typed: str, *, user: int = USER) -> Interaction:
        command = self._command(name, 1, CHANNEL)
        state, payload = self.world.interaction_base(
            4, user_id=user, channel_id=CHANNEL, permissions=EVERYONE_PERMISSIONS, filesize_limit=None
        )
        types = {o["name"]: o["type"] for o in command.get("options", [])}
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 1,
            "options": [{"name": option, "type": types[option], "value": typed, "focused": True}],
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload["data"] = data
        self._dispatch("INTERACTION_CREATE", payload)
        return state

    def context_menu(self, name: str, message_id: int, *, user: int = USER) -> Interaction:
        """A user runs a message command (right click → Apps) on a message."""
        message = self.world.messages[message_id]
        channel = int(message["channel_id"])
        command = self._command(name, 3, channel)
        state, payload = self.world.interaction_base(
            2,
            user_id=user,
            channel_id=channel,
            permissions=EVERYONE_PERMISSIONS,
            filesize_limit=None,
            owners=self._owners(command, user, channel),
        )
        data: dict[str, Any] = {
            "id": command["id"],
            "name": name,
            "type": 3,
            "target_id": str(message_id),
            "resolved": {"messages": {str(message_id): message}},
        }
        if command.get("guild_id"):
            data["guild_id"] = command["guild_id"]
        payload["data"] = data
        self._dispatch("INTERACTION_CREATE", payload)
        return state

    def press(
        self, message_id: int, custom_id: str, *, user: int = USER, permissions: int = EVERYONE_PERMISSIONS
    ) -> Interaction:
        """A user presses a button on a message."""
        message = self.world.messages[message_id]
        ids = [c.get("custom_id") for row in message.get("components", []) for c in row.get("components", [])]
        assert custom_id in ids, f"no button {custom_id!r} on message {message_id}: {ids}"
        inherited = (message.get("interaction_metadata") or {}).get("authorizing_integration_owners")
        state, payload = self.world.interaction_base(
            3,
            user_id=user,
            channel_id=int(message["channel_id"]),
            permissions=permissions,
            filesize_limit=None,
            owners=dict(inherited) if inherited else None,  # a component inherits its message's
        )
        state.message_id = message_id
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = message
        self._dispatch("INTERACTION_CREATE", payload)
        return state

    def submit_modal(
        self, opened_by: Interaction, values: dict[str, str], *, user: int = USER
    ) -> Interaction:
        """The user fills in and submits the modal the bot answered ``opened_by`` with."""
        modal = opened_by.modal
        assert modal is not None, "the bot did not open a modal"
        rows: list[dict[str, Any]] = []
        for row in modal["components"]:
            if row["type"] == 1:
                inner = [
                    {"type": c["type"], "custom_id": c["custom_id"], "value": values[c["custom_id"]]}
                    for c in row["components"]
                ]
                rows.append({"type": 1, "components": inner})
            elif row["type"] == 18:
                c = row["component"]
                rows.append(
                    {"type": 18, "component": {"type": c["type"], "custom_id": c["custom_id"],
                                               "value": values[c["custom_id"]]}}
                )  # fmt: skip
        state, payload = self.world.interaction_base(
            5,
            user_id=user,
            channel_id=opened_by.channel_id,
            permissions=EVERYONE_PERMISSIONS,
            filesize_limit=None,
            owners=dict(opened_by.owners),
        )
        payload["data"] = {"custom_id": modal["custom_id"], "components": rows}
        if opened_by.message_id is not None:
            payload["message"] = self.world.messages[opened_by.message_id]
        self._dispatch("INTERACTION_CREATE", payload)
        return state

    def say(
        self,
        content: str,
        *,
        user: int = USER,
        channel: int = CHANNEL,
        mention_bot: bool = False,
        reply_to: int | None = None,
        image: tuple[str, bytes] | None = None,
    ) -> dict[str, Any]:
        """A user posts a message (``<@bot>`` prepended with ``mention_bot``)."""
        assert self.world.bot_can_see(channel), "Discord sends Easel no messages from where it is not"
        mentions = [BOT_ID] if mention_bot else []
        if reply_to is not None and self.world.messages[reply_to]["author"]["id"] == str(BOT_ID):
            mentions = [BOT_ID]  # a reply pings its author by default
        text = f"<@{BOT_ID}> {content}" if mention_bot else content
        attachments = []
        if image is not None:
            attachments.append(self.world.attachment(image[1], image[0], "image/png", self.origin))
        message = self.world.message(
            channel, user, content=text, mentions=mentions, reference=reply_to, attachments=attachments
        )
        payload = dict(message)
        if self.world.channels[channel].guild_id is not None:
            payload["member"] = {k: v for k, v in self.world.member_json(user).items() if k != "user"}
        self._dispatch("MESSAGE_CREATE", payload)
        return message

    def _owners(self, command: dict[str, Any], user: int, channel: int) -> dict[str, str]:
        """The installations that authorize ``command`` for ``user`` here (AssertionError: none)."""
        context = self.world.context_of(channel)
        contexts = command.get("contexts")
        assert contexts is None or context in contexts, (
            f"/{command['name']} is not offered in context {context} (its contexts: {contexts})"
        )
        kinds = command.get("integration_types") or [0]
        if command.get("guild_id"):
            kinds = [0]  # a guild's own command belongs to that guild's install
        owners = self.world.owners_for(user, channel, kinds)
        assert owners, f"/{command['name']} ({kinds}) is installed neither here nor for user {user}"
        return owners

    def _command(self, name: str, kind: int, channel: int) -> dict[str, Any]:
        guild = self.world.channels[channel].guild_id
        for scope in (guild, None):
            for command in self.commands.get(scope, []):
                if command["name"] == name and command.get("type", 1) == kind:
                    return command
        raise AssertionError(f"command {name!r} (type {kind}) was not synced; synced: {self.commands}")
