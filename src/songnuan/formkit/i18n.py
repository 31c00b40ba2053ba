"""Translation hook for formkit's messages (Chinese source strings, stdlib gettext, no Django)."""

import gettext as _gettext
from pathlib import Path

_translation = _gettext.translation(
    "songnuan-formkit", localedir=Path(__file__).with_name("locale"), fallback=True
)


def gettext(message: str) -> str:
    return _translation.gettext(message)
