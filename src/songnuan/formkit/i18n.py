"""Translation hook for formkit's messages (Chinese source strings; no Django here).

By default the stdlib gettext (no catalogue: the Chinese text itself, as the command line shows it). The web
project installs Django's gettext with `use_translator` at start-up, so that a message follows the language
of the request it is produced for. The translator is looked up at call time: a message must therefore be
translated when it is produced for a user, never once at import or when a form is compiled (the first
request's language would stick for everyone).
"""

import gettext as _gettext
from collections.abc import Callable
from pathlib import Path

_translation = _gettext.translation(
    "songnuan-formkit", localedir=Path(__file__).with_name("locale"), fallback=True
)

_translator: Callable[[str], str] = _translation.gettext


def use_translator(translator: Callable[[str], str] | None) -> None:
    """Translate formkit's messages with `translator` from now on; None restores the stdlib default."""
    global _translator  # one process-wide hook, set once at start-up
    _translator = translator if translator is not None else _translation.gettext


def current_translator() -> Callable[[str], str]:
    """The translator in use (to put back after a temporary one)."""
    return _translator


def gettext(message: str) -> str:
    return _translator(message)


def gettext_noop(message: str) -> str:
    """Marks a message for the catalogue without translating it: it is translated where it is shown."""
    return message
