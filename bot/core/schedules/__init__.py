"""The rules of scheduled posts and birthday cards (the runtime is ``bot.scheduler``)."""
