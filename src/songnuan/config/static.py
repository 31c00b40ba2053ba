"""WhiteNoise (serves the CSS/JS with DEBUG off), with its scan of the static files done once per process.

WhiteNoise lists and stats every static file (the admin's too) when its middleware is built. A server builds
it once; Django's test client builds it for every Client, which cost ≈100 ms each. The files are the same for
every instance with the same settings, so the list is kept and shared (read only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from django.conf import settings as django_settings
from whitenoise.middleware import WhiteNoiseMiddleware  # type: ignore[import-untyped]


class StaticFilesMiddleware(WhiteNoiseMiddleware):  # type: ignore[misc]  # whitenoise has no type hints
    _scanned: ClassVar[dict[tuple[object, ...], dict[str, Any]]] = {}

    def __init__(self, get_response: Any = None, settings: Any = django_settings) -> None:
        key = tuple(
            str(getattr(settings, name, None))
            for name in (
                "STATIC_ROOT",
                "STATIC_URL",
                "DEBUG",
                "WHITENOISE_USE_FINDERS",
                "WHITENOISE_AUTOREFRESH",
                "WHITENOISE_MAX_AGE",
                "STATICFILES_DIRS",
            )
        )
        self._reused = self._scanned.get(key)
        super().__init__(get_response, settings)
        if self._reused is not None:
            self.files = self._reused
        elif not self.autorefresh:
            self._scanned[key] = self.files

    def add_files(self, root: Any, prefix: Any = None) -> None:
        # STATIC_ROOT exists only once collectstatic has run; until then the finders serve every file.
        if self._reused is None and Path(root).is_dir():
            super().add_files(root, prefix)

    def add_files_from_finders(self) -> None:
        if self._reused is None:
            super().add_files_from_finders()
