"""What a caller's Spanish words say: the same parsers as slots.py, function for function.

Speech-to-text writes Spanish with accents or without ("habitación", "habitacion"), numbers
in words or digits ("el tres de diciembre", "el 3 de diciembre"): every pattern here runs on
the folded text (lower case, no accents; faq.fold), names are taken from the words as
written.
"""

from __future__ import annotations

import datetime as dt
import re

from app.engines.local.dates import Mention, arrival_departure, at_day, resolve
from app.hotel.config import DepartmentConfig
from app.hotel.faq import fold

_UNITS = {
    "un": 1, "uno": 1, "una": 1, "dos": 2, "tres": 3, "cuatro": 4, "cinco": 5, "seis": 6,
    "siete": 7, "ocho": 8, "nueve": 9, "diez": 10, "once": 11, "doce": 12, "trece": 13,
    "catorce": 14, "quince": 15, "dieciseis": 16, "diecisiete": 17, "dieciocho": 18,
    "diecinueve": 19, "veinte": 20, "veintiuno": 21, "veintiun": 21, "veintiuna": 21,
    "veintidos": 22, "veintitres": 23, "veinticuatro": 24, "veinticinco": 25,
    "veintiseis": 26, "veintisiete": 27, "veintiocho": 28, "veintinueve": 29, "treinta": 30,
}  # fmt: skip
_TENS = {"treinta": 30, "cuarenta": 40, "cincuenta": 50, "sesenta": 60, "setenta": 70,
         "ochenta": 80, "noventa": 90}  # fmt: skip
_MONTHS = {
    "enero": 1, "febrero": 2, "marzo": 3, "abril": 4, "mayo": 5, "junio": 6, "julio": 7,
    "agosto": 8, "septiembre": 9, "setiembre": 9, "octubre": 10, "noviembre": 11,
    "diciembre": 12,
}  # fmt: skip
_WEEKDAYS = {"lunes": 0, "martes": 1, "miercoles": 2, "jueves": 3, "viernes": 4, "sabado": 5,
             "domingo": 6}  # fmt: skip
# After a number, words that make it something other than a day ("el dos de la tarde" is not
# a date either: "a las dos").
_NOT_A_DAY_AFTER = {"noche", "noches", "adulto", "adultos", "persona", "personas", "nino",
                    "ninos", "nina", "ninas", "semana", "semanas", "habitacion", "habitaciones",
                    "hora", "horas", "minuto", "minutos", "y", "huespedes", "hijos", "menores"}  # fmt: skip
_DAY_BEFORE = {"el", "del", "al", "dia", "hasta", "y"}
_DEPARTS = re.compile(
    r"\b(?:hasta|salimos|salgo|salida|saldre|saldremos|saldria|saldriamos|nos vamos el|"
    r"me voy el|nos iremos el|me ire el|nos iriamos el|marchamos|la salida)\b"
)
_YES = {"si", "claro", "vale", "perfecto", "correcto", "exacto", "exactamente", "ok", "okay",
        "dale", "adelante", "bueno", "afirmativo", "confirmo", "reservela", "reservelo",
        "reservemela", "hagalo", "genial", "estupendo", "sale"}  # fmt: skip
# Not "por favor" alone ("quisiera reservar una habitación, por favor" is no yes), as in English.
_YES_PHRASES = ("de acuerdo", "por supuesto", "esta bien", "muy bien", "eso es",
                "me parece bien", "hagala", "hazla")  # fmt: skip
_NO = {"no", "tampoco", "negativo", "incorrecto", "equivocado", "cancelar", "cancele"}
_NAME_PREFIX = re.compile(
    r"^(?:si|claro|vale)?[,.]?\s*(?:me llamo|mi nombre es|el nombre es|a nombre de|"
    r"nombre de|soy|es|esta a nombre de|seria a nombre de|pongala a nombre de)\s+"
)
_INTRODUCED = re.compile(
    r"\b(?:me llamo|mi nombre es|el nombre es|a nombre de|esta a nombre de|"
    r"seria a nombre de)\s+"
)
_NAME_PARTICLES = {"de", "del", "la", "las", "los", "y", "san"}
_NOT_NAME = {
    *_UNITS, *_MONTHS, *_WEEKDAYS, *_YES, *_NO, "noche", "noches", "adulto", "adultos", "nino",
    "ninos", "persona", "personas", "habitacion", "reserva", "reservar", "el", "por", "favor",
    "gracias", "para", "con", "que", "quiero", "quisiera", "manana", "hoy", "numero",
    "telefono", "hola", "perdon", "como", "repita", "somos", "una", "mi", "yo",
}  # fmt: skip
_NAME_END = {"y", "para", "por", "llegamos", "llego", "somos", "mi", "con", "gracias", "desde",
             "numero", "telefono"}  # fmt: skip
_TOKEN = re.compile(r"[a-z0-9]+")
_FILLER = {"eh", "em", "pues", "bueno", "por", "favor", "solo", "solamente", "unas", "unos",
           "serian", "seran", "son", "creo", "que", "mm", "vale"}  # fmt: skip
_PARTY_FILLER = {"para", "seremos", "vamos", "a", "ser", "en", "total", "somos", "nosotros"}
_DIGITS = {"cero": "0", "uno": "1", "un": "1", "una": "1", "dos": "2", "tres": "3",
           "cuatro": "4", "cinco": "5", "seis": "6", "siete": "7", "ocho": "8", "nueve": "9"}  # fmt: skip

CUES: dict[str, re.Pattern[str]] = {
    "goodbye": re.compile(
        r"\b(adios|hasta luego|hasta pronto|chao|chau|eso es todo|es todo|colgar)\b"
    ),
    "done": re.compile(r"^\W*(no|nada|eso es todo|es todo|ya esta|nada mas)\b[\w\s,.'!]{0,30}$"),
    "repeat": re.compile(
        r"\b(repita|repitalo|repite|repitelo|repetir|repetirlo|repetirme|otra vez por favor|"
        r"no (le|te) (he )?(entendido|entendi|oido|oi)|que (me )?(ha )?dicho|que dijo)\b"
        r"|^\W*(como|perdon|perdone|que|mande|disculpe|otra vez|como dice)\W*$"
    ),
    "start_over": re.compile(
        r"\b(empezar de nuevo|empecemos de nuevo|empezar otra vez|volver a empezar|"
        r"desde el principio|comenzar de nuevo|empezar de cero|empecemos otra vez)\b"
    ),
    "person": re.compile(
        r"\bhablar con (?:alguien|una persona|un humano|una persona real|recepcion|"
        r"la recepcion|un agente|un empleado|una recepcionista|un recepcionista|el personal)\b"
        r"|\bpersona real\b|\bun humano\b|\bcon (?:una )?persona\b"
        r"|^\W*(?:con )?(?:la |el |una |un )?(?:operador|operadora|recepcion|recepcionista|persona)"
        r"(?:[\s,]+por favor)?\W*$"
    ),
    "transfer": re.compile(
        r"\b(paseme|pasame|pasarme|me pasa|me puede pasar|me pasas|comuniqueme|comunicarme|"
        r"ponerme con|me pone con|hablar con|transferir|transfiera|transfiereme)\b"
    ),
    "callback": re.compile(
        r"\b(llameme|llamenme|me llamen|me llame|me llamaran|devolver la llamada|"
        r"devuelvan la llamada|me devuelvan|me pueden llamar|me puede llamar|volver a llamar|"
        r"que me llamen)\b"
    ),
    "card": re.compile(
        r"\b(tarjeta|visa|mastercard|american express|amex|codigo de seguridad|cvv|caducidad|"
        r"vencimiento)\b"
    ),
    "not_ready": re.compile(
        r"(no estoy segur|lo pienso|pensarlo|todavia no|aun no|mas tarde|solo (estoy )?mirando|"
        r"solo queria saber|ya le llamo|ya les llamo|ya llamare)"
    ),
}
_PERSON_WORDS = ("recepcion", "alguien", "persona", "operador", "operadora", "recepcionista",
                 "humano")  # fmt: skip
_BOOKING_WORDS = {"reservar", "reserva", "reservas", "reservacion", "reservaciones",
                  "disponibilidad", "disponible", "disponibles", "precio", "precios", "tarifa",
                  "tarifas", "noche", "noches", "alojarme", "alojarnos", "hospedarme",
                  "hospedarnos", "quedarme", "quedarnos", "estancia", "hospedaje", "libre",
                  "libres", "cuesta"}  # fmt: skip
_ROOM_WORDS = {"habitacion", "habitaciones", "cuarto", "cuartos", "suite", "suites"}
_POSITIONS = [
    (re.compile(r"\b(mas barat[ao]|mas economic[ao]|menos car[ao]|la barata|el barato|"
                r"la economica|el economico)\b"), "cheapest"),
    (re.compile(r"\b(mas grande|mas ampli[ao]|mas espacios[ao]|la grande|el grande|mayor)\b"),
     "biggest"),
    (re.compile(r"\b(mas car[ao]|la cara|el caro)\b"), "dearest"),
    (re.compile(r"\b(ultim[ao])\b"), "last"),
    (re.compile(r"\b(primer[ao]?)\b"), "1"),
    (re.compile(r"\b(segund[ao])\b"), "2"),
    (re.compile(r"\b(tercer[ao]?)\b"), "3"),
]  # fmt: skip


def _words(text: str) -> list[str]:
    return _TOKEN.findall(fold(text).replace("-", " "))


def cue(text: str, name: str) -> bool:
    return CUES[name].search(fold(text).replace("-", " ").strip()) is not None


def _number(word: str) -> int | None:
    if word.isdigit():
        return int(word)
    return _UNITS.get(word)


def _day_number(words: list[str], i: int) -> tuple[int | None, int]:
    """A day of the month at words[i] ('3', 'tres', 'treinta y uno', 'primero'): the day and
    how many words it takes."""
    word = words[i]
    if word in ("primero", "primer"):
        return 1, 1
    if word == "treinta" and words[i + 1 : i + 3] in (["y", "uno"], ["y", "un"]):
        return 31, 3
    day = _number(word)
    if day is not None and 1 <= day <= 31:
        return day, 1
    return None, 1


def _mentions(words: list[str]) -> list[Mention]:
    found: list[Mention] = []
    i = 0
    while i < len(words):
        word = words[i]
        previous = words[i - 1] if i >= 1 else ""
        if word == "pasado" and words[i + 1 : i + 2] == ["manana"]:
            found.append(Mention(i, offset=2))
            i += 2
            continue
        if word == "manana" and previous != "la":  # "por la mañana" is the morning
            found.append(Mention(i, offset=1))
        elif word == "hoy" or (word == "noche" and previous == "esta"):
            found.append(Mention(i, offset=0))
        elif word in _WEEKDAYS:
            found.append(Mention(i, weekday=_WEEKDAYS[word]))
        elif word in _MONTHS:
            day, size = _day_number(words, i + 1) if i + 1 < len(words) else (None, 1)
            if day is not None:  # "diciembre 3"
                found.append(Mention(i, day=day, month=_MONTHS[word]))
                i += 1 + size
                continue
        else:
            day, size = _day_number(words, i)
            if day is not None:
                after = words[i + size : i + size + 2]
                if after[:1] and after[0] in _MONTHS:
                    found.append(Mention(i, day=day, month=_MONTHS[after[0]]))
                    i += size + 1
                    continue
                if after[:1] == ["de"] and after[1:] and after[1] in _MONTHS:
                    found.append(Mention(i, day=day, month=_MONTHS[after[1]]))
                    i += size + 2
                    continue
                if (
                    previous in _DAY_BEFORE
                    and word not in ("primero", "primer", "un", "una")
                    and not (after[:1] and after[0] in _NOT_A_DAY_AFTER)
                    and (previous != "y" or found)
                ):
                    found.append(Mention(i, day=day))
                    i += size
                    continue
        i += 1
    return found


def parse_date(text: str, today: dt.date) -> dt.date | None:
    mentions = _mentions(_words(text))
    return resolve(mentions[0], today, today) if mentions else None


def parse_dates(
    text: str, today: dt.date, arrival: dt.date | None = None
) -> tuple[dt.date | None, dt.date | None]:
    """'el tres de diciembre', 'del 3 al 5 de diciembre', 'llegamos el viernes y salimos el
    domingo', 'hasta el cinco' (a departure alone)."""
    folded = fold(text).replace("-", " ")
    departs = _DEPARTS.search(folded)
    departs_at = len(_words(folded[: departs.start()])) if departs else None
    return arrival_departure(_mentions(_words(folded)), departs_at, today, arrival)


def parse_nights(text: str, asked: bool = False) -> int | None:
    """'dos noches', 'una semana', 'el fin de semana'; 'tres' when the nights were asked."""
    words = _words(text)
    joined = " ".join(words)
    if "fin de semana" in joined:
        return 2
    if re.search(r"\bun par de noches\b", joined):
        return 2
    for i, word in enumerate(words):
        count = _number(words[i - 1]) if i >= 1 else None
        if word in ("noche", "noches") and count:
            return count
        if word in ("semana", "semanas") and count:
            return 7 * count
    if asked:
        rest = [w for w in words if w not in _FILLER]
        if len(rest) == 1 and _number(rest[0]):
            return _number(rest[0])
    return None


def parse_guests(text: str, asked: bool = False) -> tuple[int | None, int | None]:
    """'dos adultos y un niño', 'somos dos', 'para tres personas', 'solo yo', 'mi esposa y yo'."""
    words = _words(text)
    joined = " ".join(words)
    adults = children = None
    for i, word in enumerate(words):
        count = _number(words[i - 1]) if i >= 1 else None
        if word in ("adulto", "adultos", "persona", "personas", "huespedes", "mayores") and count:
            adults = count
        elif word in ("nino", "ninos", "nina", "ninas", "hijo", "hijos", "hija", "hijas",
                      "menores", "nenes", "bebe", "bebes", "crios") and count:  # fmt: skip
            children = count
    if adults is None:
        somos = re.search(r"\bsomos (\w+)\b", joined)
        if somos and _number(somos.group(1)):
            adults = _number(somos.group(1))
        elif re.search(r"\b(solo yo|yo solo|yo sola|solamente yo|una sola persona|"
                       r"viajo solo|viajo sola)\b", joined):  # fmt: skip
            adults = 1
        elif re.search(r"\bmi (esposa|esposo|mujer|marido|pareja|novia|novio) y yo\b", joined) or (
            re.search(r"\b(nosotros dos|los dos|las dos)\b", joined)
        ):
            adults = 2
    if asked and adults is None:  # "dos", "para dos", "seremos tres"
        rest = [w for w in words if w not in _FILLER and w not in _PARTY_FILLER]
        if len(rest) == 1 and _number(rest[0]):
            adults = _number(rest[0])
    if re.search(r"\bsin (ninos|hijos|menores)\b", joined):
        children = 0
    return adults, children


def parse_yes_no(text: str) -> bool | None:
    words = set(_words(text))
    folded = " ".join(_words(text))
    no = bool(words & _NO) or "mejor no" in folded
    yes = bool(words & _YES) or any(p in folded for p in _YES_PHRASES)
    if yes and not no:
        return True
    if no and not yes:
        return False
    return None


def _name_words(original: str) -> str | None:
    head = re.split(r"[,;!?¿¡\d]|\.(?:\s|$)", original.strip(), maxsplit=1)[0]
    parts: list[str] = []
    for part in head.split():
        if fold(part) in _NAME_END and parts:
            break
        parts.append(part)
    while parts and fold(parts[-1]) in _NAME_PARTICLES:
        parts.pop()
    if not parts or len(parts) > 5:
        return None
    if not all(re.fullmatch(r"[^\W\d_][^\W\d_'.-]*", p) for p in parts):
        return None
    if any(fold(p).strip(".") in _NOT_NAME for p in parts) or fold(parts[0]) in _NAME_PARTICLES:
        return None
    return " ".join(p if fold(p) in _NAME_PARTICLES else p[0].upper() + p[1:] for p in parts)


def parse_name(text: str) -> str | None:
    """'Me llamo María González', 'A nombre de José Luis Pérez', 'María de la Cruz'."""
    stripped = text.strip(" .,!?¿¡")
    match = _NAME_PREFIX.match(fold(stripped))
    cleaned = stripped[match.end() :] if match else stripped
    if len(cleaned.split()) > 5:
        return None
    return _name_words(cleaned)


def introduced_name(text: str) -> str | None:
    match = _INTRODUCED.search(fold(text))
    return _name_words(text[match.end() :]) if match else None


def parse_digits(text: str) -> str:
    """'cinco cinco cinco, cero uno tres cuatro', 'cincuenta y cinco', '415 555 0134'."""
    words = re.findall(r"\d+|[a-z]+", fold(text))
    out: list[str] = []
    i = 0
    while i < len(words):
        word = words[i]
        if word.isdigit():
            out.append(word)
        elif word in _TENS:
            tens = _TENS[word]
            if words[i + 1 : i + 2] == ["y"] and i + 2 < len(words) and words[i + 2] in _DIGITS:
                out.append(str(tens + int(_DIGITS[words[i + 2]])))
                i += 2
            else:
                out.append(str(tens))
        elif word in _DIGITS:
            out.append(_DIGITS[word])
        elif word in _UNITS and _UNITS[word] >= 10:  # "once", "veintidós": two digits
            out.append(str(_UNITS[word]))
        i += 1
    return "".join(out)


def parse_position(text: str) -> str | None:
    """'la primera', 'la segunda', 'la última', 'la más barata', 'la más grande'; not 'el
    primero de diciembre' (a date)."""
    folded = " ".join(_words(text))
    if re.search(
        r"\b(primer[ao]?|segund[ao]|tercer[ao]?|ultim[ao]) de (" + "|".join(_MONTHS) + ")", folded
    ):
        return None
    for pattern, position in _POSITIONS:
        if pattern.search(folded):
            return position
    return None


def wants_booking(text: str, today: dt.date) -> bool:
    """'quisiera reservar', 'disponibilidad', 'precio'; a room with a date or nights
    ('¿tienen habitación para el viernes?')."""
    words = set(_words(text))
    if words & _BOOKING_WORDS:
        return True
    if words & _ROOM_WORDS:
        return parse_date(text, today) is not None or bool(
            words & {"tienen", "hay", "quiero", "quisiera", "necesito"}
        )
    return False


_GENERIC = {"el", "la", "los", "las", "de", "del", "equipo", "servicio", "departamento"}


def department_phrases(key: str, department: DepartmentConfig) -> list[str]:
    """How a Spanish caller names a department: its Spanish name without the article
    ('recepcion', 'restaurante bay kitchen'), and its telling words ('restaurante',
    'eventos')."""
    spoken = department.spoken_names.get("es")
    if spoken is None:
        return [department.name.lower()]
    words = [w for w in _words(spoken)]
    while words and words[0] in ("el", "la", "los", "las"):
        words.pop(0)
    phrases = [" ".join(words)]
    phrases += [w for w in words if w not in _GENERIC and len(w) >= 6 and w != "reservas"]
    return phrases


def person_words() -> tuple[str, ...]:
    return _PERSON_WORDS


_PARTS_OF_DAY = {"manana": dt.time(10), "mediodia": dt.time(12), "tarde": dt.time(16),
                 "noche": dt.time(20)}  # fmt: skip


def parse_time(text: str) -> dt.time | None:
    """'a las tres', 'a las 3 y media de la tarde', 'a las 15:00', 'por la mañana'."""
    folded = fold(text)
    words = _words(folded)
    joined = " ".join(words)
    hour = minute = None
    clock = re.search(r"\b(\d{1,2}):(\d{2})\b", folded)
    if clock:
        hour, minute = int(clock.group(1)), int(clock.group(2))
    else:
        at = re.search(r"\ba (?:las|la) (\w+)(?: y (media|cuarto))?", joined)
        if at and _number(at.group(1)) is not None:
            hour = _number(at.group(1))
            minute = {"media": 30, "cuarto": 15, None: 0}[at.group(2)]
    part = next(
        (p for p in ("manana", "mediodia", "tarde", "noche") if f"la {p}" in joined or
         f"al {p}" in joined or f"esta {p}" in joined),
        None,
    )  # fmt: skip
    if hour is not None and minute is not None and hour < 24 and minute < 60:
        # "de la tarde"; and "a las tres" alone, on the phone, is the afternoon
        if (part in ("tarde", "noche") and hour < 12) or (part is None and 1 <= hour <= 7):
            hour += 12
        return dt.time(hour, minute)
    return _PARTS_OF_DAY.get(part) if part else None


def parse_when(text: str, now: dt.datetime) -> dt.datetime | None:
    """'mañana a las tres', 'en dos horas', 'dentro de una hora', 'el viernes por la mañana'."""
    joined = " ".join(_words(text))
    within = re.search(r"\b(?:en|dentro de) (\w+) (horas?|minutos?)\b", joined)
    if within and _number(within.group(1)):
        count = _number(within.group(1)) or 0
        unit = "hours" if within.group(2).startswith("hora") else "minutes"
        return now + dt.timedelta(**{unit: count})
    if re.search(r"\b(?:en|dentro de) media hora\b", joined):
        return now + dt.timedelta(minutes=30)
    return at_day(parse_date(text, now.date()), parse_time(text), now)
