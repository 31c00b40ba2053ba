"""Generated households that look real (valid ID numbers, common names, phones): demo data, benchmarks.

Deterministic for a given seed. The ID numbers are valid but made up: area codes of Jingmen's counties, birth
dates 1955–2000, a sequence number and the right check character. Never use them for anything but tests.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

from songnuan.archive.idnumbers import check_character, luhn_valid

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟"
    "谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤单"
)
_GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬鹏辉建国建华志强海燕晓明"
    "春梅德胜文斌金凤小红永刚俊峰淑珍桂兰秀兰凤英玉兰国庆新民卫东爱华红梅丽娟"
)
_AREAS = ("420802", "420804", "420821", "420822", "420881", "420882", "420801")  # 荆门市辖区、县、市
_CAUSES = ("本人患大病", "家属患大病", "子女教育", "因灾致困", "下岗失业", "单亲家庭", "工伤致残", "收入低")
_DIFFICULTY = ("深度困难", "相对困难", "意外致困")
_EMPLOYERS = (
    "水泥厂",
    "化工公司",
    "纺织厂",
    "建筑公司",
    "环卫所",
    "物流公司",
    "食品厂",
    "机械厂",
    "石化公司",
)
_BANKS = ("中国工商银行", "中国农业银行", "中国建设银行", "湖北农信", "中国邮政储蓄银行")


@dataclass(frozen=True)
class GeneratedHousehold:
    name: str
    id_number: str
    phone: str
    category: str  # 困难职工 / 困难农民工 / 困难劳模, as people write it
    difficulty_type: str
    main_cause: str
    employer: str
    monthly_income: Decimal
    household_size: int
    card_number: str
    bank: str


def luhn_complete(partial: str) -> str:
    """`partial` with the Luhn check digit appended."""
    return next(partial + digit for digit in "0123456789" if luhn_valid(partial + digit))


def valid_id_number(rng: random.Random, serial: int) -> str:
    """A valid 18-digit ID number, different for every `serial` below 10⁶ per birth date and area."""
    birth = dt.date(1955, 1, 1) + dt.timedelta(days=rng.randrange(16425))
    first17 = f"{rng.choice(_AREAS)}{birth:%Y%m%d}{serial % 1000:03d}"
    return first17 + check_character(first17)


def households(count: int, *, seed: int = 2018) -> Iterator[GeneratedHousehold]:
    """`count` households with distinct ID numbers."""
    rng = random.Random(seed)
    seen: set[str] = set()
    produced = 0
    while produced < count:
        number = valid_id_number(rng, rng.randrange(1000))
        if number in seen:
            continue
        seen.add(number)
        produced += 1
        size = rng.choice((1, 2, 3, 3, 3, 4, 4, 5))
        category = rng.choices(("困难职工", "困难农民工", "困难劳模"), weights=(70, 27, 3))[0]
        given = rng.choice(_GIVEN) + (rng.choice(_GIVEN) if rng.random() < 0.7 else "")
        yield GeneratedHousehold(
            name=rng.choice(_SURNAMES) + given,
            id_number=number,
            phone=f"1{rng.choice('3578')}{rng.randrange(10**9):09d}",
            category=category,
            difficulty_type=rng.choice(_DIFFICULTY),
            main_cause=rng.choice(_CAUSES),
            employer=rng.choice(_EMPLOYERS),
            monthly_income=Decimal(rng.randrange(800, 4000 * size)) + Decimal("0.00"),
            household_size=size,
            card_number=luhn_complete(f"622{rng.randrange(10**15):015d}"),
            bank=rng.choice(_BANKS),
        )
