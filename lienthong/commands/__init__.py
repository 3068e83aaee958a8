"""Subcommands of the ``lienthong`` CLI, one module each, plus shared argument helpers."""
