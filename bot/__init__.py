"""qunguard: a WeChat group moderation bot."""

__version__ = "0.1.0"
