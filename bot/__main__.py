"""``python -m bot`` behaves like ``easel``."""

from bot.cli import main

if __name__ == "__main__":
    main()
