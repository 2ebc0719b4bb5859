"""The answering side: the transport-agnostic answer engine, the Telegram front and the command line."""
