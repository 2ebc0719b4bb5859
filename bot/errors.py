"""Errors of the answering side that the CLI turns into one-line messages."""


class ConfigError(ValueError):
    """A setting is wrong or a package it needs is missing; the message says what to do."""
