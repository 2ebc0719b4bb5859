"""`python -m bot.cli`, as the `newsbot` command."""

from bot.cli import main

main()
