"""The Telegram adapter (python-telegram-bot): ``adapter`` is the entry; updates, rendering, delivery,
admin lists and the webhook server have a module each."""
