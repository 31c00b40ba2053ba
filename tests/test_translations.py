"""The English catalogue (`locale/en/LC_MESSAGES/django.po`; the msgids are the Chinese source texts):
complete, up to date with the source, placeholders kept, and used by the pages (the header's 中文 / English
switch).

Every test needs GNU gettext (`msgfmt`, and `xgettext`/`msgmerge` through makemessages) and fails, never
skips, without it: a missing tool would otherwise hide an untranslated interface.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client, override_settings
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
PO = LOCALE / "en" / "LC_MESSAGES" / "django.po"
#: What refreshes the catalogue (the Makefile's `make messages` runs the same).
REFRESH = (
    "cd src && ../.venv/bin/python -m django makemessages -l en --settings=songnuan.config.settings "
    "--add-location=file --no-obsolete  (or: make messages), then translate the new msgids in "
    "locale/en/LC_MESSAGES/django.po and remove their “fuzzy” flags"
)

#: The parts of a text a translation must carry over unchanged: printf placeholders (%(name)s, %(n)d, %s, %%),
#: str.format fields ({name}, {got:.1f}) and doubled braces ({{row}}), HTML tags from {% blocktranslate %},
#: and the page-setup codes of an Excel header or footer (&C, &P, &N).
PLACEHOLDER = re.compile(
    r"%%|%\(\w+\)[sdif]|%[sdif]"  # printf
    r"|\{\{\w*\}\}|\{\w*(?:![rsa])?(?::[^{}]*)?\}"  # str.format
    r"|</?[a-z][a-z0-9]*(?:\s[^<>]*)?>"  # HTML tags (ASCII names: "<表样代码>" is text)
    r"|&[A-Z]"  # Excel header/footer codes
)


def require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(
            f"GNU gettext's {tool} is not installed, so the English catalogue cannot be checked or compiled: "
            "install gettext (Debian/Ubuntu: apt-get install gettext; `bash .ci/run` does it)."
        )
    return path


@dataclass
class Entry:
    msgid: str = ""
    msgid_plural: str | None = None
    msgctxt: str | None = None
    msgstr: dict[int, str] = field(default_factory=dict)  # plural index → text; a singular entry uses 0
    flags: set[str] = field(default_factory=set)

    @property
    def key(self) -> tuple[str | None, str, str | None]:
        return (self.msgctxt, self.msgid, self.msgid_plural)


def read_po(path: Path) -> list[Entry]:
    """The catalogue's entries without the header and without obsolete (#~) entries. Enough of the PO format
    for what GNU gettext writes: comments, flags, msgctxt, msgid, msgid_plural, msgstr[n], continued lines."""
    entries: list[Entry] = []
    entry: Entry | None = None
    target: tuple[str, int] = ("msgid", 0)
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line:
            entry = None
            continue
        if line.startswith("#~"):
            continue
        if entry is None:
            entry = Entry()
            entries.append(entry)
        if line.startswith("#,"):
            entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            continue
        if line.startswith("#"):
            continue
        match = re.fullmatch(r'(msgctxt|msgid_plural|msgid|msgstr)(?:\[(\d+)\])?\s+(".*")', line)
        if match:
            keyword, index, text = match.group(1), int(match.group(2) or 0), ast.literal_eval(match.group(3))
            target = (keyword, index)
        elif line.startswith('"'):
            keyword, index, text = target[0], target[1], ast.literal_eval(line)
        else:
            raise AssertionError(f"{path}:{number}: not a PO line: {raw!r}")
        if keyword == "msgstr":
            entry.msgstr[index] = entry.msgstr.get(index, "") + text
        else:
            setattr(entry, keyword, (getattr(entry, keyword) or "") + text)
    return [e for e in entries if e.msgid or e.msgctxt]


def listing(texts: Iterable[object]) -> str:
    return "\n".join(f"  {text!r}" for text in sorted(texts, key=repr))


def compile_catalogue(into: Path) -> Path:
    """The catalogue compiled with msgfmt into a fresh locale directory (the .mo files are built, never
    committed), so these tests never read a stale compiled copy."""
    target = into / "en" / "LC_MESSAGES"
    target.mkdir(parents=True)
    subprocess.run(
        [require("msgfmt"), "--check", "-o", str(target / "django.mo"), str(PO)],
        check=True,
        capture_output=True,
    )
    return into


def test_the_settings_serve_this_catalogue() -> None:
    assert ("en", "English") in settings.LANGUAGES
    assert settings.LANGUAGE_CODE == "zh-hans"
    assert LOCALE in [Path(p) for p in settings.LOCALE_PATHS]
    assert "django.middleware.locale.LocaleMiddleware" in settings.MIDDLEWARE
    assert PO.is_file(), f"{PO} is missing: {REFRESH}"


def test_every_msgid_is_translated_and_none_is_fuzzy() -> None:
    entries = read_po(PO)
    assert len(entries) > 900  # the whole interface, not a stub
    untranslated = [e.msgid for e in entries if not e.msgstr or not all(e.msgstr.values())]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert not untranslated, (
        f"{len(untranslated)} msgids have no English text:\n{listing(untranslated)}\n{REFRESH}"
    )
    assert not fuzzy, f"{len(fuzzy)} translations are marked fuzzy (guessed, unchecked):\n{listing(fuzzy)}"
    plural = [e for e in entries if e.msgid_plural is not None]
    assert plural, "the catalogue has plural entries ({% plural %}); English needs both forms"
    assert all(sorted(e.msgstr) == [0, 1] for e in plural), "English has two plural forms: msgstr[0] and [1]"
    assert '"Plural-Forms: nplurals=2; plural=(n != 1);\\n"' in PO.read_text(encoding="utf-8")


def test_msgfmt_accepts_the_catalogue(tmp_path: Path) -> None:
    """msgfmt --check: the syntax, the header, and the format strings of every python-format and
    python-brace-format entry against its msgid."""
    result = subprocess.run(
        [require("msgfmt"), "--check", "--statistics", "-o", str(tmp_path / "django.mo"), str(PO)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "untranslated" not in result.stderr and "fuzzy" not in result.stderr, result.stderr


def test_the_catalogue_is_up_to_date_with_the_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """makemessages over src/ into an empty locale directory gives exactly the catalogue's msgids: a new
    gettext string, or one reworded, fails here until it is translated."""
    require("xgettext")
    require("msgmerge")
    monkeypatch.chdir(ROOT / "src")
    with override_settings(LOCALE_PATHS=[str(tmp_path)]):
        call_command("makemessages", locale=["en"], verbosity=0, stdout=StringIO(), stderr=StringIO())
    source = {e.key for e in read_po(tmp_path / "en" / "LC_MESSAGES" / "django.po")}
    catalogue = {e.key for e in read_po(PO)}
    missing = source - catalogue
    stale = catalogue - source
    assert not missing, (
        f"{len(missing)} texts of the source are not in the English catalogue:\n"
        f"{listing(m[1] for m in missing)}\n{REFRESH}"
    )
    assert not stale, (
        f"{len(stale)} msgids are no longer in the source:\n{listing(s[1] for s in stale)}\n{REFRESH}"
    )


def test_every_translation_keeps_the_placeholders() -> None:
    wrong = []
    for entry in read_po(PO):
        for index, text in entry.msgstr.items():
            source = entry.msgid if index == 0 or entry.msgid_plural is None else entry.msgid_plural
            if text and sorted(PLACEHOLDER.findall(source)) != sorted(PLACEHOLDER.findall(text)):
                wrong.append(f"{source!r}\n    → {text!r}")
    assert not wrong, "translations that lose, add or change a placeholder:\n" + "\n".join(wrong)


def test_the_placeholder_pattern_finds_what_it_must() -> None:
    text = "%(n)s 个 %d %% {name} {got:.1f} {{row}} <b>x</b> <表样代码>.xlsx &C第 &P 页"
    expected = ["%(n)s", "%d", "%%", "{name}", "{got:.1f}", "{{row}}", "<b>", "</b>", "&C", "&P"]
    assert PLACEHOLDER.findall(text) == expected


@pytest.mark.django_db
def test_pages_are_chinese_by_default_and_english_when_asked(tmp_path: Path) -> None:
    with override_settings(LOCALE_PATHS=[str(compile_catalogue(tmp_path))]):
        chinese = Client().get("/login/")
        assert chinese.status_code == 200
        page = chinese.content.decode()
        assert '<html lang="zh-hans">' in page
        assert "登录送温暖统计报送系统" in page
        assert "Log in to the Send Warmth reporting system" not in page

        english = Client().get("/login/", headers={"accept-language": "en-GB,en;q=0.9"})
        page = english.content.decode()
        assert '<html lang="en">' in page
        assert "Log in to the Send Warmth reporting system" in page
        assert "Needy worker archive" in page  # the header's menu
        assert "登录送温暖统计报送系统" not in page


@pytest.mark.django_db
def test_the_header_switch_changes_the_language_and_stays_on_the_page(tmp_path: Path) -> None:
    with override_settings(LOCALE_PATHS=[str(compile_catalogue(tmp_path))]):
        client = Client()
        page = client.get("/login/?next=/campaigns/").content.decode()
        # The switch is a plain form (no JavaScript) posting the current page as `next`.
        form = re.search(
            r'<form method="post" action="(/i18n/setlang/)" class="language".*?</form>', page, re.S
        )
        assert form is not None
        assert 'name="next" value="/login/?next=/campaigns/"' in form.group(0)
        assert 'name="language" value="en"' in form.group(0) and ">English</button>" in form.group(0)
        current = 'value="zh-hans" lang="zh-Hans" aria-current="true" disabled>中文</button>'
        assert current in form.group(0)

        switched = client.post(form.group(1), {"language": "en", "next": "/login/?next=/campaigns/"})
        assert switched.status_code == 302
        assert switched["Location"] == "/login/?next=/campaigns/"
        assert switched.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
        page = client.get(switched["Location"]).content.decode()
        assert "Log in to the Send Warmth reporting system" in page
        assert 'value="en" lang="en" aria-current="true" disabled>English</button>' in page

        client.post("/i18n/setlang/", {"language": "zh-hans", "next": "/login/"})
        assert "登录送温暖统计报送系统" in client.get("/login/").content.decode()


def test_python_messages_use_the_catalogue(tmp_path: Path) -> None:
    with override_settings(LOCALE_PATHS=[str(compile_catalogue(tmp_path))]):
        with translation.override("en"):
            assert translation.gettext("报送上级") == "Submit to the level above"
            assert translation.gettext("退回修改") == "Return for correction"
            assert translation.ngettext("共 %(n)s 户", "共 %(n)s 户", 1) % {"n": 1} == "1 household"
            assert translation.ngettext("共 %(n)s 户", "共 %(n)s 户", 3) % {"n": 3} == "3 households"
        with translation.override("zh-hans"):
            assert translation.gettext("报送上级") == "报送上级"
