"""The local web chat (aiohttp): ``adapter`` is the entry; the chat API, pages, live events, uploads and
the guards (hosts, login, cookies, headers) have a module each; ``static/`` holds the pages."""
