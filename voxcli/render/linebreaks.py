"""Where a subtitle line (or a cue) may end: break classes and small per-language word lists.

The point after a word is classed, best first (Netflix's and the BBC's guidance):

- :data:`SENTENCE` (3): after sentence punctuation, or before a pause of 1.5 s;
- :data:`CLAUSE` (2): after a comma or other clause punctuation, or before a pause of 0.5 s;
- :data:`CONNECTIVE` (1): before a conjunction or a preposition;
- :data:`NEUTRAL` (0): anywhere else between two words;
- :data:`BAD` (-1): after an article, a preposition, a conjunction, a possessive or
  demonstrative determiner, a subject pronoun that needs its verb or a title (``Mr.``),
  and between a number and its unit (``10 km``, ``24 000``).

The cue builder never takes a bad break when another one within the limits exists, and
balances lines only among the breaks of the best class available. The word lists are
small on purpose (the words that almost never end a phrase); they exist for English
(the default, also for languages without a list), French, Spanish and German, chosen by
the transcript's ``language``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SENTENCE = 3
CLAUSE = 2
CONNECTIVE = 1
NEUTRAL = 0
BAD = -1

SENTENCE_PAUSE_MS = 1500
"""A silence this long after a word is as good a break as a full stop."""
CLAUSE_PAUSE_MS = 500
"""A silence this long after a word is as good a break as a comma."""

SENTENCE_END = ".!?…。！？"  # noqa: RUF001
CLAUSE_END = ",;:，、；：—–"  # noqa: RUF001
CLOSERS = "\"'”’»)]}›"  # noqa: RUF001
OPENERS = "\"'“‘«([{‹¿¡"  # noqa: RUF001

_NUMBER = re.compile(r"[$€£¥+\-−±~]?\d[\d.,:'’/]*", re.UNICODE)  # noqa: RUF001

_COMMON_UNITS = (
    "% ‰ ° °c °f € $ £ ¥ km km/h kmh kg g mg mm cm m m² m³ mi ml cl dl l lb lbs oz ft "
    "mph kph h min s ms µs ns hz khz mhz ghz kb mb gb tb kw kwh mw gw w v db bn k x"
)


@dataclass(frozen=True)
class BreakRules:
    """One language's word lists (lower case)."""

    language: str
    no_end: frozenset[str]  # never end a line (or a cue) on one of these
    connectives: frozenset[str]  # a good place to break is just before one of these
    units: frozenset[str]  # never separated from the number before them
    titles: frozenset[str]  # abbreviations before a name: their full stop ends nothing


def _rules(language: str, no_end: str, connectives: str, units: str, titles: str) -> BreakRules:
    return BreakRules(
        language=language,
        no_end=frozenset(no_end.split()),
        connectives=frozenset(connectives.split()),
        units=frozenset((_COMMON_UNITS + " " + units).split()),
        titles=frozenset(titles.split()),
    )


ENGLISH = _rules(
    "en",
    no_end=(
        # articles, possessive and demonstrative determiners
        "a an the my your his her its our their whose this these those every each "
        # prepositions
        "about above across after against along among amongst around at before behind "
        "below beneath beside besides between beyond by despite during except for from "
        "in inside into near of on onto over per since than through throughout to toward "
        "towards under underneath unlike until unto upon via with within without "
        # conjunctions, and the subject pronoun that cannot stand without its verb
        "and but or nor because although if unless whereas while whether that as i"
    ),
    connectives=(
        "and but or nor so yet because although though while whereas if unless until when "
        "where which who whom whose that than after before since as about at by for from in "
        "into of on onto over through to toward towards under with within without"
    ),
    units=(
        "percent per cent dollars dollar euros euro pounds pound yen cents cent miles mile "
        "meters metres meter metre kilometers kilometres kilometer kilometre kilos kilo "
        "kilograms kilogram grams gram feet foot inches inch degrees degree hours hour "
        "minutes minute seconds second days day weeks week months month years year "
        "hundred thousand million millions billion billions trillion"
    ),
    titles="mr. mrs. ms. dr. prof. st. mt. messrs. gen. col. lt. sgt. capt. rev. hon.",
)

FRENCH = _rules(
    "fr",
    no_end=(
        "le la les l' un une des du de d' au aux ce cet cette ces "
        "mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs "
        "à a dans par pour sur sous avec sans chez vers entre contre depuis pendant selon "
        "et ou mais donc ni car que qu' qui quand si comme lorsque puisque parce dont "
        "je j' tu il elle on nous vous ils elles ne n' se s'"
    ),
    connectives=(
        "et ou mais donc car ni que qui quand si comme lorsque puisque parce dont où "
        "pour dans avec sans sur sous par chez vers entre contre depuis pendant avant après "
        "selon jusqu'à"
    ),
    units=(
        "pour cent pourcent euros euro dollars dollar livres francs mètres mètre "
        "kilomètres kilomètre kilos kilo grammes gramme degrés degré heures heure "
        "minutes minute secondes seconde jours jour semaines semaine mois ans an années "
        "année cent mille million millions milliard milliards"
    ),
    titles="m. mme. mlle. mm. dr. pr. me. st. ste.",
)

SPANISH = _rules(
    "es",
    no_end=(
        "el la los las un una unos unas lo al del "
        "mi mis tu tus su sus nuestro nuestra nuestros nuestras vuestro vuestra vuestros "
        "vuestras este esta estos estas ese esa esos esas aquel aquella aquellos aquellas "
        "a ante bajo con contra de desde durante en entre hacia hasta mediante para por "
        "según sin sobre tras "
        "y e o u ni pero sino que porque aunque si cuando como mientras donde "
        "yo se me te nos os le les"
    ),
    connectives=(
        "y e o u ni pero sino que porque aunque si cuando como mientras donde cual "
        "para por con sin sobre desde hasta hacia entre durante según contra ante tras"
    ),
    units=(
        "por ciento euros euro dólares dólar pesos peso libras metros metro kilómetros "
        "kilómetro kilos kilo gramos gramo grados grado horas hora minutos minuto "
        "segundos segundo días día semanas semana meses mes años año cien mil millón "
        "millones"
    ),
    titles="sr. sra. srta. dr. dra. d. dña. prof. lic. ing.",
)

_GERMAN_DETERMINERS = " ".join(
    stem + ending
    for stem in ("ein", "kein", "mein", "dein", "sein", "ihr", "unser", "euer", "eur", "dies")
    for ending in ("", "e", "en", "em", "er", "es")
)

GERMAN = _rules(
    "de",
    no_end=(
        "der die das den dem des " + _GERMAN_DETERMINERS + " "
        "an am ans auf aus bei beim bis durch für gegen hinter in im ins mit nach neben ohne "
        "seit über um unter von vom vor während wegen zu zum zur zwischen "
        "und oder aber denn sondern dass weil wenn ob als obwohl damit sowie bevor nachdem "
        "ich du er sie es wir ihr"
    ),
    connectives=(
        "und oder aber denn sondern dass weil wenn ob als obwohl damit nachdem bevor "
        "während wie wo mit für von zu nach bei aus auf über unter ohne gegen seit um "
        "durch zwischen"
    ),
    units=(
        "prozent euro dollar pfund franken meter kilometer kilo kilogramm gramm grad "
        "stunden stunde minuten minute sekunden sekunde tage tag wochen woche monate "
        "monat jahre jahr jahren hundert tausend million millionen milliarde milliarden"
    ),
    titles="hr. fr. dr. prof. st. nr.",
)

RULES: dict[str, BreakRules] = {r.language: r for r in (ENGLISH, FRENCH, SPANISH, GERMAN)}
_NAMES = {
    "english": "en",
    "french": "fr",
    "français": "fr",
    "francais": "fr",
    "spanish": "es",
    "español": "es",
    "espanol": "es",
    "german": "de",
    "deutsch": "de",
}


def rules_for(language: str | None) -> BreakRules:
    """The word lists for a language code (``en``, ``fr-CA``, ``de_DE``) or name; English
    for any other language and when it is unknown."""
    if not language:
        return ENGLISH
    key = language.strip().lower()
    key = _NAMES.get(key, re.split(r"[-_]", key, maxsplit=1)[0])
    return RULES.get(key, ENGLISH)


def _bare(word: str) -> str:
    return word.strip(OPENERS + CLOSERS).lower()


def _is_number(word: str) -> bool:
    return _NUMBER.fullmatch(word.strip(OPENERS + CLOSERS)) is not None


def _ends_on_stop_word(word: str, rules: BreakRules) -> bool:
    elided = word.lower().replace("’", "'").lstrip(OPENERS)  # noqa: RUF001
    return _bare(word) in rules.no_end or elided in rules.no_end  # French "l'", "qu'"


def break_class(before: str, after: str | None, gap_ms: int, rules: BreakRules) -> int:
    """The class of the point after the word ``before`` (followed by ``after``, if any,
    after ``gap_ms`` of silence)."""
    tail = before.rstrip(CLOSERS) or before
    last = tail[-1]
    if last in SENTENCE_END:
        if last == "." and _bare(tail) in rules.titles:
            return BAD
        return SENTENCE
    if gap_ms >= SENTENCE_PAUSE_MS:
        return SENTENCE
    if last in CLAUSE_END or gap_ms >= CLAUSE_PAUSE_MS:
        return CLAUSE
    if after is None:
        return NEUTRAL
    if _ends_on_stop_word(before, rules):
        return BAD
    if _is_number(before):
        unit = _bare(after).rstrip(SENTENCE_END + CLAUSE_END)
        if unit in rules.units or (after[:1].isdigit()):
            return BAD
    if _bare(after) in rules.connectives:
        return CONNECTIVE
    return NEUTRAL


def ends_badly(line: str, rules: BreakRules) -> bool:
    """True when a line (not a cue's last) ends on a word that should not end one."""
    words = line.split()
    if not words:
        return False
    last = words[-1]
    tail = last.rstrip(CLOSERS) or last
    if tail[-1] in SENTENCE_END + CLAUSE_END:
        return tail[-1] == "." and _bare(tail) in rules.titles
    return _ends_on_stop_word(last, rules)
