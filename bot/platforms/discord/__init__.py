"""The Discord adapter (discord.py): ``adapter`` is the entry; slash commands, interactions, views,
rendering and delivery have a module each."""
