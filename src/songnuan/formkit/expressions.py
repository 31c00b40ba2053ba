"""Rule expressions: a tiny linear language (`3A = 3B + 3C`, `4A <= 3A`, `12A = 否`), parsed once, no eval."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from songnuan.formkit.i18n import gettext as _
from songnuan.formkit.i18n import gettext_noop

YES = "是"
NO = "否"
YES_NO_VALUES = {YES: 1, NO: 0}

#: Comparison operators, with the forms people type (≤ ≥ ≠ ==) mapped to one spelling.
OPERATORS = {
    "=": "=",
    "==": "=",
    "<=": "<=",
    "≤": "<=",
    ">=": ">=",
    "≥": ">=",
    "<": "<",
    ">": ">",
    "!=": "!=",
    "≠": "!=",
}
#: Untranslated (marked for the catalogue only): a message translates the word when it is made.
OPERATOR_WORDS = {
    "=": gettext_noop("等于"),
    "<=": gettext_noop("不大于"),
    ">=": gettext_noop("不小于"),
    "<": gettext_noop("小于"),
    ">": gettext_noop("大于"),
    "!=": gettext_noop("不等于"),
}

_TOKEN = re.compile(
    r"\s*(?:(?P<item>[1-9][0-9]?[A-Z][1-9]?)(?![0-9A-Za-z])|(?P<number>\d+(?:\.\d+)?)|(?P<yesno>[是否])"
    r"|(?P<op><=|>=|!=|==|[=<>≤≥≠])|(?P<sign>[+\-])|(?P<times>[*×]))"
)


class ExpressionError(ValueError):
    """A rule expression cannot be parsed; the message is Chinese and names the position."""


@dataclass(frozen=True, slots=True)
class Term:
    """coefficient × item, or a constant when item is None."""

    coefficient: Decimal
    item: str | None = None


@dataclass(frozen=True, slots=True)
class Side:
    terms: tuple[Term, ...]

    @property
    def items(self) -> tuple[str, ...]:
        return tuple(t.item for t in self.terms if t.item is not None)

    @property
    def constant(self) -> Decimal:
        return sum((t.coefficient for t in self.terms if t.item is None), Decimal(0))

    @property
    def is_plain_sum(self) -> bool:
        """Only items, each added once with coefficient 1 (the shape of a total's parts)."""
        return bool(self.terms) and all(t.item is not None and t.coefficient == 1 for t in self.terms)

    def text(self) -> str:
        parts: list[str] = []
        for term in self.terms:
            sign = "-" if term.coefficient < 0 else "+"
            magnitude = abs(term.coefficient)
            if term.item is None:
                body = _format_number(magnitude)
            elif magnitude == 1:
                body = term.item
            else:
                body = f"{_format_number(magnitude)}×{term.item}"
            parts.append(
                body if not parts and sign == "+" else f"{sign}{body}" if not parts else f" {sign} {body}"
            )
        return "".join(parts) or "0"


@dataclass(frozen=True, slots=True)
class Comparison:
    left: Side
    operator: str
    right: Side
    source: str

    @property
    def items(self) -> tuple[str, ...]:
        return self.left.items + self.right.items

    def text(self) -> str:
        return f"{self.left.text()} {self.operator} {self.right.text()}"


def _format_number(value: Decimal) -> str:
    return format(value.normalize(), "f") if value == value.to_integral() else format(value, "f")


def parse_comparison(source: str) -> Comparison:
    """Parse `sum OP sum`; raise ExpressionError with the position of the first thing not understood."""
    tokens = _tokenize(source)
    position = 0

    def peek() -> tuple[str, str, int] | None:
        return tokens[position] if position < len(tokens) else None

    def parse_side() -> Side:
        nonlocal position
        terms: list[Term] = []
        sign = Decimal(1)
        token = peek()
        if token and token[0] == "sign" and token[1] == "-":
            sign = Decimal(-1)
            position += 1
        while True:
            token = peek()
            if token is None:
                raise ExpressionError(_("表达式“{s}”在结尾处缺少项目或数字").format(s=source))
            kind, text, offset = token
            position += 1
            if kind == "item":
                terms.append(Term(sign, text))
            elif kind == "yesno":
                terms.append(Term(sign * YES_NO_VALUES[text]))
            elif kind == "number":
                following = peek()
                # `Side.text` prints 2×3A, people type 2*3A: both read back.
                if following and following[0] == "times":
                    position += 1
                    item = peek()
                    if item is None or item[0] != "item":
                        raise ExpressionError(
                            _("表达式“{s}”第{n}个字符处：“*”后应为项目代码").format(s=source, n=offset + 1)
                        )
                    position += 1
                    terms.append(Term(sign * Decimal(text), item[1]))
                else:
                    terms.append(Term(sign * Decimal(text)))
            else:
                raise ExpressionError(
                    _("表达式“{s}”第{n}个字符处应为项目或数字，而不是“{t}”").format(
                        s=source, n=offset + 1, t=text
                    )
                )
            token = peek()
            if token is None or token[0] == "op":
                return Side(tuple(terms))
            if token[0] == "sign":
                sign = Decimal(1) if token[1] == "+" else Decimal(-1)
                position += 1
                continue
            raise ExpressionError(
                _("表达式“{s}”第{n}个字符处应为“+”“-”或比较符号").format(s=source, n=token[2] + 1)
            )

    left = parse_side()
    token = peek()
    if token is None:  # a side ends only at the end or at an operator
        raise ExpressionError(_("表达式“{s}”缺少比较符号（= <= >= < > !=）").format(s=source))
    position += 1
    right = parse_side()
    if position != len(tokens):
        raise ExpressionError(_("表达式“{s}”只能有一个比较符号").format(s=source))
    return Comparison(left, OPERATORS[token[1]], right, source)


def _tokenize(source: str) -> list[tuple[str, str, int]]:
    tokens: list[tuple[str, str, int]] = []
    position = 0
    text = source.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            # Name the character itself, not the spaces before it (text is right-stripped: one follows).
            at = len(text) - len(text[position:].lstrip())
            raise ExpressionError(
                _("表达式“{s}”第{n}个字符“{c}”无法识别").format(s=source, n=at + 1, c=text[at])
            )
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind), match.start(kind)))
        position = match.end()
    return tokens


_PRINTED_LETTER = re.compile(r"(?<![0-9A-Z])([A-Z])(?![0-9A-Z])")


def qualify_printed_formula(formula: str, number: str) -> str:
    """Turn a formula as printed beside item group `number` (`A=B+C`) into item codes (`3A=3B+3C`)."""
    return _PRINTED_LETTER.sub(lambda m: f"{number}{m.group(1)}", formula.replace(" ", ""))
