"""The SECRET_KEY: SONGNUAN_SECRET_KEY if set, else a file in the local data folder (made once by `make run`).

Plain Python (no Django): settings reads the key with it, and `python -m songnuan.config.secret_key` creates
the file before Django can even load its settings (with DEBUG off a missing key refuses to start).
"""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[3]
DEFAULT_KEY_FILE = BASE_DIR / "var" / "secret_key"
#: Keys that were published (the old development key, Django's startproject placeholder): never secret.
PUBLISHED_PREFIXES = ("dev-only", "django-insecure")
MIN_LENGTH = 50
MIN_UNIQUE_CHARACTERS = 5


def key_file() -> Path:
    return Path(os.environ.get("SONGNUAN_SECRET_KEY_FILE") or DEFAULT_KEY_FILE)


def read_secret_key() -> str:
    """The key from the environment, else from the key file; "" when there is neither."""
    from_environment = os.environ.get("SONGNUAN_SECRET_KEY", "").strip()
    if from_environment:
        return from_environment
    try:
        return key_file().read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return ""


def key_problem(key: str) -> str | None:
    """Why the key is unfit to sign sessions and CSRF tokens (the rules of Django's check W009), or None."""
    if not key:
        return "没有设置 SECRET_KEY"
    if key.startswith(PUBLISHED_PREFIXES):
        return "SECRET_KEY 是已公开的开发用密钥"
    if len(key) < MIN_LENGTH or len(set(key)) < MIN_UNIQUE_CHARACTERS:
        return f"SECRET_KEY 太弱（至少 {MIN_LENGTH} 个字符，其中至少 {MIN_UNIQUE_CHARACTERS} 个不同的字符）"
    return None


def create_key_file(path: Path) -> bool:
    """Write a fresh random key to `path` (mode 0600, only the owner reads it); False if the file exists."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return False
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(secrets.token_urlsafe(64) + "\n")
    return True


def main() -> int:
    path = key_file()
    if not os.environ.get("SONGNUAN_SECRET_KEY") and create_key_file(path):
        print(f"已生成 SECRET_KEY：{path}（仅本机使用，勿提交到代码库）")
    problem = key_problem(read_secret_key())
    if problem:
        print(f"{problem}：请设置 SONGNUAN_SECRET_KEY，或删除 {path} 后重新生成。", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
