"""Everything the offline receptionist says, in Spanish (usted): the same keys as wording.py.

The hotel's tools answer in English; here the same facts are worded from the tools' other
fields (dates, totals, the rooms offered), and their common errors have Spanish wordings
(dates, a full hotel, too many guests); an error without one is answered with an apology
and the offer of a person.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any, ClassVar

from app.engines.local.wording import Wording, cents
from app.hotel.spoken import spelled

_DAY_WORDS = [
    "", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve", "diez",
    "once", "doce", "trece", "catorce", "quince", "dieciséis", "diecisiete", "dieciocho",
    "diecinueve", "veinte", "veintiuno", "veintidós", "veintitrés", "veinticuatro",
    "veinticinco", "veintiséis", "veintisiete", "veintiocho", "veintinueve", "treinta",
    "treinta y uno",
]  # fmt: skip
_MONTHS = ["", "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
           "septiembre", "octubre", "noviembre", "diciembre"]  # fmt: skip
_WEEKDAYS = ["lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"]
_CURRENCY = {
    "USD": ("dólar", "dólares", "centavo", "centavos"),
    "CAD": ("dólar", "dólares", "centavo", "centavos"),
    "MXN": ("peso", "pesos", "centavo", "centavos"),
    "EUR": ("euro", "euros", "céntimo", "céntimos"),
    "GBP": ("libra", "libras", "penique", "peniques"),
}
_ENGLISH_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "no": 0}


class SpanishWording(Wording):
    LANGUAGE: ClassVar[str] = "es"
    PHRASES: ClassVar[dict[str, str]] = {
        "goodbye": "Gracias por llamar al {hotel}. Adiós.",
        "card": "Por favor, no me dé los datos de la tarjeta por teléfono; nunca los tomamos "
        "así. Cuando tenga una reserva, puedo enviarle por mensaje un enlace de pago seguro.",
        "offer_link": "Por favor, no me dé los datos de la tarjeta por teléfono. Puedo "
        "enviarle por mensaje un enlace seguro para pagar. ¿Se lo envío?",
        "keyed_many": "Gracias. ¿En qué puedo ayudarle?",
        "how_help": "¿En qué puedo ayudarle?",
        "transfer": "Por supuesto. Le paso con {department}.",
        "unavailable": "Lo siento, ahora mismo no puedo hacerlo por teléfono. Le paso con "
        "{department}.",
        "arranging": "Ahora mismo lo programo.",
        "anything_else": "¿Puedo ayudarle en algo más?",
        "rescue_transfer": "Le paso con {desk}; allí le ayudarán encantados.",
        "not_getting": "Lo siento, no le estoy entendiendo bien.",
        "keep_trying": "De acuerdo, intentémoslo otra vez.",
        "start_over": "Por supuesto, empecemos de nuevo.",
        "checking": "Un momento, lo compruebo.",
        "booking_now": "Ahora mismo hago la reserva.",
        "sending": "Se lo envío ahora.",
        "noting_lead": "Lo anoto para el equipo.",
        "room_chosen": "La {room}, perfecto.",
        "room_noted": "Anotada la {room}.",
        "name_thanks": "Gracias, {name}.",
        "pay_later": "No hay problema, puede pagar al llegar.",
        "no_problem": "No hay problema.",
        "error": "Lo siento, algo no ha salido bien por mi parte.",
        "other_dates": "¿Quiere probar con otras fechas?",
        "fewer_nights": "¿Cuántas noches prefiere entonces?",
        "lead_not_ready": "Por supuesto. ¿Quiere que nuestro equipo de reservas le llame al "
        "número desde el que llama?",
        "lead_declined": "No hay problema. ¿Quiere que nuestro equipo de reservas le llame con "
        "una oferta para esas fechas?",
        "pay_offer": "¿Quiere que le envíe por mensaje un enlace seguro para pagar ahora? Si "
        "no, puede pagar al llegar.",
    }
    QUESTIONS: ClassVar[dict[str, tuple[str, str]]] = {
        "arrival": (
            "Con mucho gusto le ayudo con la reserva. ¿Qué día le gustaría llegar?",
            "¿Qué día llegaría? Por ejemplo: este viernes, o el doce de diciembre.",
        ),
        "length": (
            "¿Y cuántas noches se quedaría?",
            "¿Cuánto tiempo se quedaría? Por ejemplo: tres noches, o hasta el día cinco.",
        ),
        "guests": (
            "¿Cuántos adultos se alojarán, y algún niño?",
            "¿Para cuántas personas es la habitación? Por ejemplo: dos adultos, o dos adultos "
            "y un niño.",
        ),
        "room": (
            "¿Cuál prefiere?",
            "¿Cuál prefiere: {rooms}? Por ejemplo: la primera, o la más barata.",
        ),
        "room_one": (
            "¿Quiere que le reserve la {room}?",
            "¿Le reservo la {room}? Diga sí o no, por favor.",
        ),
        "name": (
            "¿A nombre de quién hago la reserva?",
            "¿Qué nombre pongo en la reserva? Por ejemplo: María González.",
        ),
        "phone": (
            "¿Uso el número desde el que llama para la reserva?",
            "¿Uso el número desde el que llama? Diga sí, o dígame otro número.",
        ),
        "phone_digits": (
            "¿Qué número usamos? Dígamelo cifra a cifra, con el prefijo.",
            "Dígame el número cifra a cifra, por ejemplo: cuatro uno cinco, cinco cinco cinco, "
            "cero uno tres cuatro.",
        ),
        "confirm": (
            "{readback} ¿Hago la reserva?",
            "¿Confirmo la reserva? Diga sí o no, por favor.",
        ),
        "change": (
            "De acuerdo, no he reservado nada. ¿Qué quiere cambiar?",
            "¿Qué cambio? Por ejemplo: tres noches, dos adultos, o la {room}.",
        ),
        "pay": (
            "{summary} {offer}",
            "¿Le envío el enlace de pago por mensaje? Diga sí o no, por favor.",
        ),
        "lead": ("{offer}", "¿Quiere que el equipo le llame? Diga sí o no, por favor."),
        "callback_when": (
            "Por supuesto. ¿Cuándo le viene bien que le llamemos?",
            "Perdone, no he entendido la hora. ¿Me dice un día y una hora? Por ejemplo: mañana "
            "a las tres de la tarde.",
        ),
        "unheard": (
            "Perdone, no le he oído bien. ¿Puede repetirlo?",
            "Lo siento, sigo sin oírle. ¿Puede decirlo otra vez, un poco más cerca del teléfono?",
        ),
        "cant_help": (
            "Lo siento, eso no lo puedo resolver yo. Puedo consultar habitaciones y precios, "
            "hacer una reserva, responder preguntas sobre el hotel o pasarle con la recepción.",
            "Lo siento, sigo sin poder ayudarle con eso. Puede decir, por ejemplo: quiero "
            "reservar una habitación, ¿está incluido el desayuno?, o con recepción, por favor.",
        ),
        "rescue": (
            "Puedo pasarle con {desk}, o pedir que le llamen más tarde. ¿Qué prefiere?",
            "¿Prefiere que le pase con {desk}, o que le llamemos? Diga recepción, o llámenme.",
        ),
        "rescue_desk": (
            "¿Quiere que le pase con {desk}?",
            "¿Le paso con {desk}? Diga sí o no, por favor.",
        ),
    }
    HINTS: ClassVar[dict[str, str]] = {
        "callback_when": "Mañana por la mañana. Esta tarde a las tres. A este número, por favor.",
        "arrival": "Queremos llegar el doce de diciembre. Este viernes. Mañana.",
        "length": "Tres noches. Dos noches, por favor. Solo una noche. Una semana.",
        "guests": "Dos adultos y un niño. Solo yo, un adulto. Dos adultos, sin niños.",
        "change": "Desde el doce de diciembre. Tres noches. Dos adultos. {rooms}.",
        "phone": "Cinco cinco cinco, uno dos tres, cuatro cinco seis siete.",
        "room": "La {room}",
    }
    # The English summaries of these tools' errors, and their Spanish wording.
    _ERRORS: ClassVar[list[tuple[re.Pattern[str], str]]] = [
        (re.compile(r"arrival date has already passed"),
         "Esa fecha de llegada ya ha pasado. ¿Qué día le gustaría llegar?"),
        (re.compile(r"check-out date needs to be after"),
         "La fecha de salida tiene que ser posterior a la de llegada."),
        (re.compile(r"I can book up to (?P<n>\d+) nights"),
         "Puedo reservar hasta {n} noches de una vez; para una estancia más larga, nuestro "
         "equipo de reservas le hará una oferta."),
        (re.compile(r"At least one adult"), "En la reserva tiene que figurar al menos un adulto."),
        (re.compile(r"largest rooms take (?P<most>\d+) guests, so a party of (?P<party>\d+)"),
         "Nuestras habitaciones más grandes son para {most} personas, así que un grupo de "
         "{party} necesitaría más de una habitación. Puedo reservarlas de una en una, o "
         "pasarle con nuestro equipo de reservas."),
        (re.compile(r"The (?P<room>.+?) takes up to (?P<adults>\d+) adults and (?P<children>\w+) "
                    r"child(?:ren)?, (?P<all>\d+) guests in all"),
         "La {room} admite hasta {adults} adultos y {children}, {all} personas en total. "
         "¿Busco una habitación más grande?"),
        (re.compile(r"The (?P<room>.+?) needs at least (?P<nights>\w+) nights?"),
         "La {room} requiere un mínimo de {nights} en esas fechas."),
        (re.compile(r"the last (?P<room>.+?) for those dates has just been taken"),
         "Lo siento, la última {room} para esas fechas se acaba de reservar. ¿Busco otra "
         "habitación?"),
        (re.compile(r"that hold has expired"),
         "Lo siento, la reserva provisional ha caducado. ¿Lo compruebo otra vez?"),
        (re.compile(r"^Did you mean the (?P<names>.+)\?$"), "¿Se refiere a la {names}?"),
        (re.compile(r"We don't have a room called (?P<wanted>.+?)\. Our rooms are: (?P<names>.+)\."),
         "No tenemos ninguna habitación llamada {wanted}. Nuestras habitaciones son: {names}."),
        (re.compile(r"phone number doesn't look complete"),
         "Ese número de teléfono parece incompleto. ¿Me lo puede repetir, con el prefijo?"),
        (re.compile(r"need a phone number or an email"),
         "Necesito un número de teléfono o un correo electrónico para la reserva."),
        (re.compile(r"That time has already passed"),
         "Esa hora ya ha pasado. ¿Cuándo quiere que le llamemos?"),
        (re.compile(r"within the next month"),
         "Puedo programar la llamada dentro del próximo mes. ¿Qué día le viene bien?"),
        (re.compile(r"What number should we call you back on"), "¿A qué número le llamamos?"),
        (re.compile(r"can't find a booking with that confirmation code"),
         "No encuentro ninguna reserva con ese código de confirmación. ¿Me lo puede leer otra "
         "vez, letra a letra?"),
        (re.compile(r"asked us not to send texts"),
         "Ese número ha pedido no recibir mensajes. La recepción puede enviarle el enlace por "
         "correo electrónico."),
    ]  # fmt: skip

    # --- words ----------------------------------------------------------------------------------
    def greeting(self) -> str:
        return self.prop.greeting_in("es") or (
            f"Gracias por llamar al {self.prop.name}. Soy {self.prop.agent.name}, ¿en qué puedo "
            "ayudarle?"
        )

    def department(self, key: str) -> str:
        department = self.prop.departments[key]
        return department.spoken_names.get("es", department.name)

    def room(self, name: str) -> str:
        return f"la {name}"

    def rooms(self, names: list[str], last: str = "o") -> str:
        return super().rooms(names, last)

    def date(self, day: dt.date, today: dt.date) -> str:
        """'hoy', 'mañana', 'el jueves tres de diciembre' (the year when it is not this one)."""
        if day == today:
            return "hoy"
        if day == today + dt.timedelta(days=1):
            return "mañana"
        text = f"el {_WEEKDAYS[day.weekday()]} {_DAY_WORDS[day.day]} de {_MONTHS[day.month]}"
        if day.year != today.year:
            text += f" de {day.year}"
        return text

    def money(self, amount_cents: int) -> str:
        one, many, sub_one, sub_many = _CURRENCY.get(
            self.prop.currency, (self.prop.currency,) * 2 + ("centavo", "centavos")
        )
        whole, part = divmod(amount_cents, 100)
        text = f"{whole} {one if whole == 1 else many}"
        if part:
            text += f" con {part} {sub_one if part == 1 else sub_many}"
        return text

    def count(self, n: int, one: str, many: str, feminine: bool = False) -> str:
        if n == 1:
            return f"{'una' if feminine else 'un'} {one}"
        return f"{_DAY_WORDS[n] if 1 < n < len(_DAY_WORDS) else n} {many}"

    def _party(self, adults: int, children: int) -> str:
        party = self.count(adults, "adulto", "adultos")
        if children:
            party += f" y {self.count(children, 'niño', 'niños')}"
        return party

    def _nights(self, n: int) -> str:
        return self.count(n, "noche", "noches", feminine=True)

    def readback(
        self,
        room: str,
        check_in: dt.date,
        nights: int,
        adults: int,
        children: int,
        name: str,
        today: dt.date,
    ) -> str:
        return (
            f"Entonces: la {room}, con llegada {self.date(check_in, today)}, "
            f"{self._nights(nights)}, para {self._party(adults, children)}, a nombre de {name}."
        )

    # --- what the tools said --------------------------------------------------------------------
    def _stay(self, output: dict[str, Any], today: dt.date) -> str:
        check_in = dt.date.fromisoformat(str(output["check_in"]))
        check_out = dt.date.fromisoformat(str(output["check_out"]))
        nights = int(output.get("nights") or (check_out - check_in).days)
        return (
            f"{self._nights(nights)}, desde {self.date(check_in, today)} hasta "
            f"{self.date(check_out, today)}"
        )

    def quote(self, output: dict[str, Any], today: dt.date) -> str:
        options = list(output.get("options") or [])
        party = self._party(int(output.get("adults") or 1), int(output.get("children") or 0))
        head = f"para {self._stay(output, today)}, para {party}"
        shown = [o for o in options if o.get("bookable")][:3]
        if not shown:
            text = f"Lo siento, no tenemos nada disponible {head}."
        else:
            listed = "; ".join(self._option(o) for o in shown)
            text = f"{head[0].upper()}{head[1:]}, tengo {listed}."
            left = int(shown[0].get("rooms_left") or 0)
            if len(shown) == 1 and 0 < left <= 2:
                text += (
                    " Es la última habitación de ese tipo."
                    if left == 1
                    else f" Es una de nuestras {_DAY_WORDS[left]} últimas habitaciones de ese tipo."
                )
        notes = [
            f"La {o['name']} requiere un mínimo de {self._nights(int(o['minimum_nights']))} "
            "en esas fechas."
            for o in options
            if int(o.get("rooms_left") or 0) > 0 and not o.get("bookable")
        ]
        return " ".join([text, *notes])

    def _option(self, option: dict[str, Any]) -> str:
        total = cents(option.get("total"))
        nightly = [cents(p) for p in option.get("nightly_prices") or []]
        text = f"la {option['name']} por {self.money(total)} en total"
        if len(nightly) > 1 and len(set(nightly)) == 1:
            text += f", {self.money(nightly[0])} la noche"
        return text

    def booked(self, output: dict[str, Any], adults: int, children: int, today: dt.date) -> str:
        code = str(output.get("room_type", ""))
        room = next((r.name for r in self.prop.room_types if r.code == code), code)
        spoken = str(
            output.get("confirmation_code_spoken")
            or spelled(str(output.get("confirmation_code", "")))
        )
        return (
            f"Listo: tiene reservada la {room} para {self._stay(output, today)}, para "
            f"{self._party(adults, children)}, {self.money(cents(output.get('total')))} en total. "
            f"Su código de confirmación es {spoken}."
        )

    def link_sent(self, output: dict[str, Any], total_cents: int) -> str:
        ending = self.ending(str(output.get("sent_to", "")))
        to = f" al número que termina en {ending}" if ending else ""
        return (
            f"Le he enviado un mensaje{to} con un enlace seguro para pagar "
            f"{self.money(total_cents)}. Es válido durante 24 horas."
        )

    def lead_noted(self, output: dict[str, Any]) -> str:
        ending = self.ending(str(output.get("summary", "")))
        to = f" en el número que termina en {ending}" if ending else ""
        return f"Lo he anotado. El equipo se pondrá en contacto con usted{to}."

    def callback_arranged(self, output: dict[str, Any], now: dt.datetime) -> str:
        ending = self.ending(str(output.get("summary", "")))
        to = f" al número que termina en {ending}" if ending else ""
        try:
            due = dt.datetime.fromisoformat(str(output.get("due_at")))
        except ValueError:
            return f"He programado la llamada{to}."
        today = now.astimezone(due.tzinfo).date() if due.tzinfo else now.date()
        return (
            f"He programado que le llamemos {self.date(due.date(), today)} {self.clock(due)}{to}."
        )

    @staticmethod
    def clock(moment: dt.datetime) -> str:
        """'a las tres de la tarde', 'a la una y media', 'a las diez de la mañana'."""
        hour = moment.hour % 12 or 12
        minutes = {0: "", 15: " y cuarto", 30: " y media"}.get(moment.minute, f" y {moment.minute}")
        if moment.hour < 12:
            part = "de la mañana"
        elif moment.hour < 14:
            part = "del mediodía"
        elif moment.hour < 21:
            part = "de la tarde"
        else:
            part = "de la noche"
        article = "a la" if hour == 1 else "a las"
        return f"{article} {_DAY_WORDS[hour]}{minutes} {part}"

    def tool_error(self, error: str) -> str | None:
        for pattern, spanish in self._ERRORS:
            match = pattern.search(error)
            if match:
                values = {k: str(_ENGLISH_NUMBERS.get(v, v)) for k, v in match.groupdict().items()}
                if values.get("nights", "").isdigit():
                    values["nights"] = self._nights(int(values["nights"]))
                if values.get("children", "").isdigit():
                    n = int(values["children"])
                    values["children"] = self.count(n, "niño", "niños") if n else "ningún niño"
                return spanish.format(**values)
        return None
