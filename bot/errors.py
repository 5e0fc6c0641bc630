"""The one exception tree of qunguard.

::

    QunguardError
    ├── RulesError          a rules file is wrong: path, line, key
    ├── ConfigError         config.yaml is wrong: path, line, key
    ├── TranscriptError     a transcript line is unreadable: path, line
    ├── StoreUnavailable    the database cannot be reached (the journal takes over)
    ├── PuppetUnavailable   the puppet service cannot be reached
    └── ActionFailed        the chat refused a send or a kick
        ├── NotAFriend      a private message to someone who is not the bot's friend
        └── NotPermitted    a kick in a room where the bot is not owner or admin

Every error says where: the CLI prints ``str(error)`` and exits 1, never a
traceback.
"""

from __future__ import annotations


class QunguardError(Exception):
    """Base class: the message is meant for a person."""


class _Located(QunguardError):
    def __init__(self, message: str, path: str = "", line: int | None = None, key: str = "") -> None:
        self.message = message
        self.path = path
        self.line = line
        self.key = key
        super().__init__(self.__str__())

    def __str__(self) -> str:
        where = self.path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
        if self.key:
            where += f": {self.key}"
        return f"{where}: {self.message}"


class RulesError(_Located):
    """A rules file (or a lexicon it names) is invalid."""


class ConfigError(_Located):
    """The configuration file is invalid."""


class TranscriptError(_Located):
    """A transcript line cannot be read."""


class StoreUnavailable(QunguardError):
    """The database is unreachable; callers fall back to the journal."""


class PuppetUnavailable(QunguardError):
    """The puppet service is unreachable."""


class ActionFailed(QunguardError):
    """The chat refused an action (send, kick); recorded on the case."""


class NotAFriend(ActionFailed):
    """Personal WeChat lets the bot chat privately only with its friends."""


class NotPermitted(ActionFailed):
    """The bot is neither owner nor admin of the room, so it cannot kick."""
