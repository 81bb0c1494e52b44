"""Name pools for people and companies: Western, Russian, Bulgarian, Chinese, Persian.

Each pool entry is (display name, latin slug); the slug builds e-mail addresses
and web domains, so Cyrillic, Chinese and Persian names still get ASCII e-mails.
"""

from __future__ import annotations

import unicodedata
from typing import NamedTuple

import numpy as np

Pair = tuple[str, str]


def _words(text: str) -> list[str]:
    """The space-separated words of `text`."""
    return text.split()


def _ascii(text: str) -> str:
    """Lower-case ASCII form of a Latin name (accents dropped) for e-mail addresses."""
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return plain.lower()


_WESTERN_FIRST: list[Pair] = [
    (n, n.lower())
    for n in _words(
        "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William "
        "Barbara Thomas Susan Daniel Jessica Lukas Anna Sophie Jonas Emma Pierre Camille "
        "Lucas Chloe Carlos Lucia Pedro Ana Sanne Daan Olivia Liam Noah Grace Oliver"
    )
]
_WESTERN_LAST: list[Pair] = [
    (n, _ascii(n.replace("ü", "ue")))
    for n in _words(
        "Smith Johnson Williams Brown Jones Miller Davis Wilson Anderson Taylor Moore "
        "Müller Schmidt Schneider Fischer Weber Martin Bernard Dubois Moreau García "
        "Fernández López Silva Santos Oliveira Jansen Visser Bakker Clarke Walsh Kelly "
        "Nguyen Patel Singh Cohen Rossi Novak"
    )
]
_RU_MALE: list[Pair] = [
    ("Иван", "ivan"), ("Алексей", "aleksey"), ("Дмитрий", "dmitry"), ("Сергей", "sergey"),
    ("Андрей", "andrey"), ("Михаил", "mikhail"), ("Николай", "nikolay"), ("Павел", "pavel"),
    ("Владимир", "vladimir"), ("Егор", "egor"),
]  # fmt: skip
_RU_FEMALE: list[Pair] = [
    ("Анна", "anna"), ("Мария", "maria"), ("Елена", "elena"), ("Ольга", "olga"),
    ("Наталья", "natalya"), ("Татьяна", "tatyana"), ("Ирина", "irina"),
    ("Светлана", "svetlana"), ("Екатерина", "ekaterina"), ("Юлия", "yulia"),
]  # fmt: skip
_RU_LAST: list[Pair] = [
    ("Иванов", "ivanov"), ("Петров", "petrov"), ("Смирнов", "smirnov"),
    ("Кузнецов", "kuznetsov"), ("Попов", "popov"), ("Соколов", "sokolov"),
    ("Лебедев", "lebedev"), ("Козлов", "kozlov"), ("Новиков", "novikov"),
    ("Морозов", "morozov"), ("Волков", "volkov"), ("Павлов", "pavlov"),
]  # fmt: skip
_BG_MALE: list[Pair] = [
    ("Георги", "georgi"), ("Димитър", "dimitar"), ("Иван", "ivan"), ("Стоян", "stoyan"),
    ("Николай", "nikolay"), ("Петър", "petar"),
]  # fmt: skip
_BG_FEMALE: list[Pair] = [
    ("Мария", "maria"), ("Елена", "elena"), ("Десислава", "desislava"),
    ("Йорданка", "yordanka"), ("Цветелина", "tsvetelina"), ("Радостина", "radostina"),
]  # fmt: skip
_BG_LAST: list[Pair] = [
    ("Георгиев", "georgiev"), ("Димитров", "dimitrov"), ("Николов", "nikolov"),
    ("Петров", "petrov"), ("Стоянов", "stoyanov"), ("Христов", "hristov"),
    ("Тодоров", "todorov"), ("Илиев", "iliev"),
]  # fmt: skip
_ZH_LAST: list[Pair] = [
    ("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen"),
    ("杨", "yang"), ("黄", "huang"), ("赵", "zhao"), ("周", "zhou"), ("吴", "wu"),
]  # fmt: skip
_ZH_FIRST: list[Pair] = [
    ("伟", "wei"), ("芳", "fang"), ("娜", "na"), ("敏", "min"), ("静", "jing"),
    ("磊", "lei"), ("强", "qiang"), ("洋", "yang"), ("婷", "ting"), ("志明", "zhiming"),
    ("晓燕", "xiaoyan"), ("建华", "jianhua"),
]  # fmt: skip
_FA_FIRST: list[Pair] = [
    ("مریم", "maryam"), ("علی", "ali"), ("زهرا", "zahra"), ("محمد", "mohammad"),
    ("سارا", "sara"), ("رضا", "reza"), ("نگار", "negar"), ("حسین", "hossein"),
    ("لیلا", "leila"), ("امیر", "amir"),
]  # fmt: skip
_FA_LAST: list[Pair] = [
    ("احمدی", "ahmadi"), ("حسینی", "hosseini"), ("رضایی", "rezaei"), ("کریمی", "karimi"),
    ("موسوی", "mousavi"), ("جعفری", "jafari"), ("صادقی", "sadeghi"), ("نوری", "nouri"),
]  # fmt: skip


def _cross(first: list[Pair], last: list[Pair], *, family_first: bool, sep: str) -> list[Pair]:
    out: list[Pair] = []
    for f, fl in first:
        for s, sl in last:
            display = f"{s}{sep}{f}" if family_first else f"{f}{sep}{s}"
            out.append((display, f"{fl}.{sl}"))
    return out


def _slavic(male: list[Pair], female: list[Pair], last: list[Pair]) -> list[Pair]:
    fem_last = [(s + "а", sl + "a") for s, sl in last]
    return _cross(male, last, family_first=False, sep=" ") + _cross(
        female, fem_last, family_first=False, sep=" "
    )


PERSON_POOLS: dict[str, list[Pair]] = {
    "western": _cross(_WESTERN_FIRST, _WESTERN_LAST, family_first=False, sep=" "),
    "russian": _slavic(_RU_MALE, _RU_FEMALE, _RU_LAST),
    "bulgarian": _slavic(_BG_MALE, _BG_FEMALE, _BG_LAST),
    "chinese": _cross(_ZH_FIRST, _ZH_LAST, family_first=True, sep=""),
    "persian": _cross(_FA_FIRST, _FA_LAST, family_first=False, sep=" "),
}

_W_ROOTS = _words(
    "Northwind Bluefield Harbor Summit Ironwood Crescent Pioneer Granite Redwood "
    "Silverline Brightpath Keystone Meridian Oakridge Riverside Sterling Westgate "
    "Evergreen Falcon Horizon Lakeshore Maple Orion Pinnacle Quantum Sapphire Trident "
    "Vanguard Wavecrest Zenith Atlas Beacon Cobalt Delta Ember Fjord Gemini Helix "
    "Juniper Kestrel"
)
_W_WORDS = _words(
    "Logistics Systems Foods Manufacturing Health Energy Retail Analytics Partners "
    "Labs Industries Software Textiles Construction Pharma Motors Media Capital "
    "Supply Robotics"
)
_RU_ROOTS: list[Pair] = [
    ("Альфа-Строй", "alfa-stroy"),
    ("Техносервис", "tekhnoservis"),
    ("СибЭнерго", "sibenergo"),
    ("Волга-Логистик", "volga-logistik"),
    ("УралМаш", "uralmash-trade"),
    ("Северсталь-Снаб", "seversnab"),
    ("Инфотех", "infotekh"),
    ("Росагро", "rosagro-trade"),
    ("Мегаполис", "megapolis"),
    ("Балтика-Пром", "baltika-prom"),
    ("Гранит", "granit"),
    ("Меридиан", "meridian-ru"),
]
_BG_ROOTS: list[Pair] = [
    ("Витоша Трейд", "vitosha-trade"),
    ("Балкан Софт", "balkan-soft"),
    ("Родопи Фуудс", "rodopi-foods"),
    ("Тракия Логистик", "trakia-logistik"),
    ("Дунав Инвест", "dunav-invest"),
    ("Пирин Енерджи", "pirin-energy"),
]
_ZH_CITIES: list[Pair] = [
    ("北京", "beijing"),
    ("上海", "shanghai"),
    ("深圳", "shenzhen"),
    ("广州", "guangzhou"),
    ("杭州", "hangzhou"),
    ("成都", "chengdu"),
    ("苏州", "suzhou"),
    ("武汉", "wuhan"),
]
_ZH_ROOTS: list[Pair] = [
    ("华信科技", "huaxin-tech"),
    ("东方物流", "dongfang-logistics"),
    ("天成制造", "tiancheng-mfg"),
    ("宏达贸易", "hongda-trade"),
    ("金桥软件", "jinqiao-soft"),
    ("新元能源", "xinyuan-energy"),
    ("永盛食品", "yongsheng-foods"),
    ("博远医疗", "boyuan-medical"),
]
_FA_ROOTS: list[Pair] = [
    ("پارس صنعت", "pars-sanat"),
    ("آریا تجارت", "arya-tejarat"),
    ("نوین سیستم", "novin-system"),
    ("البرز پخش", "alborz-pakhsh"),
    ("سپهر داده", "sepehr-dadeh"),
    ("کاوه لجستیک", "kaveh-logistics"),
]


def _company_pool(culture: str) -> list[Pair]:
    if culture == "russian":
        return [(f"ООО «{r}»", s) for r, s in _RU_ROOTS] + [(f"АО «{r}»", s) for r, s in _RU_ROOTS]
    if culture == "bulgarian":
        return [(f"{r} ООД", s) for r, s in _BG_ROOTS] + [(f"{r} ЕООД", s) for r, s in _BG_ROOTS]
    if culture == "chinese":
        return [(f"{c}{r}有限公司", f"{cs}-{rs}") for c, cs in _ZH_CITIES for r, rs in _ZH_ROOTS]
    if culture == "persian":
        return [(f"شرکت {r}", s) for r, s in _FA_ROOTS] + [
            (f"گروه {r}", s + "-group") for r, s in _FA_ROOTS
        ]
    return [(f"{r} {w}", f"{r.lower()}-{w.lower()}") for r in _W_ROOTS for w in _W_WORDS]


COMPANY_POOLS: dict[str, list[Pair]] = {
    c: _company_pool(c) for c in ("western", "russian", "bulgarian", "chinese", "persian")
}


class Country(NamedTuple):
    """How accounts and people of one country look."""

    region: str
    share: float  # of its region's accounts
    tld: str  # web-domain ending
    phone: str  # international dialling prefix
    company_culture: str  # which company-name pool
    people: dict[str, float]  # person-name pool -> probability
    suffix: str  # legal-form suffix of Western company names


COUNTRIES: dict[str, Country] = {
    "United States": Country(
        "Americas",
        0.60,
        "com",
        "+1",
        "western",
        {"western": 0.9, "chinese": 0.04, "persian": 0.03, "russian": 0.03},
        " Inc.",
    ),
    "Canada": Country(
        "Americas",
        0.15,
        "ca",
        "+1",
        "western",
        {"western": 0.88, "chinese": 0.07, "persian": 0.05},
        " Ltd.",
    ),
    "Mexico": Country(
        "Americas", 0.10, "com.mx", "+52", "western", {"western": 1.0}, " S.A. de C.V."
    ),
    "Brazil": Country("Americas", 0.15, "com.br", "+55", "western", {"western": 1.0}, " Ltda."),
    "Germany": Country(
        "EMEA",
        0.25,
        "de",
        "+49",
        "western",
        {"western": 0.9, "russian": 0.05, "persian": 0.05},
        " GmbH",
    ),
    "United Kingdom": Country(
        "EMEA",
        0.25,
        "co.uk",
        "+44",
        "western",
        {"western": 0.9, "chinese": 0.05, "persian": 0.05},
        " Ltd",
    ),
    "France": Country("EMEA", 0.15, "fr", "+33", "western", {"western": 1.0}, " SAS"),
    "Netherlands": Country("EMEA", 0.08, "nl", "+31", "western", {"western": 1.0}, " B.V."),
    "Russia": Country("EMEA", 0.12, "ru", "+7", "russian", {"russian": 1.0}, ""),
    "Bulgaria": Country(
        "EMEA", 0.07, "bg", "+359", "bulgarian", {"bulgarian": 0.9, "western": 0.1}, ""
    ),
    "United Arab Emirates": Country(
        "EMEA", 0.08, "ae", "+971", "persian", {"persian": 0.6, "western": 0.4}, ""
    ),
    "China": Country("APAC", 0.40, "cn", "+86", "chinese", {"chinese": 1.0}, ""),
    "Singapore": Country(
        "APAC", 0.30, "sg", "+65", "western", {"chinese": 0.5, "western": 0.5}, " Pte. Ltd."
    ),
    "Australia": Country(
        "APAC", 0.30, "com.au", "+61", "western", {"western": 0.9, "chinese": 0.1}, " Pty Ltd"
    ),
}

TITLES = (
    "CEO", "CFO", "COO", "Head of Procurement", "Purchasing Manager", "IT Director",
    "Operations Manager", "Office Manager", "Sales Director", "Finance Manager", "Buyer",
    "Project Lead",
)  # fmt: skip


def pick(rng: np.random.Generator, pool: list[Pair], n: int) -> tuple[np.ndarray, np.ndarray]:
    """n random (display, slug) entries of a pool, as two object arrays."""
    idx = rng.integers(0, len(pool), n)
    display = np.array([p[0] for p in pool], dtype=object)[idx]
    slug = np.array([p[1] for p in pool], dtype=object)[idx]
    return display, slug


def people(
    rng: np.random.Generator, country_idx: np.ndarray, countries: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Person names and e-mail local parts for people in the given countries."""
    n = len(country_idx)
    display = np.empty(n, dtype=object)
    slug = np.empty(n, dtype=object)
    cultures = list(PERSON_POOLS)
    for ci, country in enumerate(countries):
        sel = np.flatnonzero(country_idx == ci)
        if sel.size == 0:
            continue
        mix = COUNTRIES[country].people
        probs = np.array([mix.get(c, 0.0) for c in cultures])
        culture = rng.choice(len(cultures), size=sel.size, p=probs / probs.sum())
        for k, name in enumerate(cultures):
            part = sel[culture == k]
            if part.size:
                display[part], slug[part] = pick(rng, PERSON_POOLS[name], part.size)
    return display, slug


def companies(
    rng: np.random.Generator, country_idx: np.ndarray, countries: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Company names and web-domain slugs for companies in the given countries."""
    n = len(country_idx)
    display = np.empty(n, dtype=object)
    slug = np.empty(n, dtype=object)
    for ci, country in enumerate(countries):
        sel = np.flatnonzero(country_idx == ci)
        if sel.size == 0:
            continue
        culture, suffix = COUNTRIES[country].company_culture, COUNTRIES[country].suffix
        d, s = pick(rng, COMPANY_POOLS[culture], sel.size)
        display[sel] = d + suffix if suffix else d
        slug[sel] = s
    return display, slug
