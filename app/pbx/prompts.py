"""What the phone menus say, in each language, worded from config/hotel.yaml.

Every recorded prompt Asterisk plays is listed here with its text; `frontdesk sounds build`
renders them (app/pbx/sounds.py) and the dialplan plays them by name. A hotel changes the
words in hotel.yaml (`phone_prompts`, a department's `spoken_names`), never here.

The keys the menu reserves (the departments take the others, see hotel.yaml):
  0 the operator (the front desk), 8 a call back, 9 the virtual receptionist, * the menu again.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.hotel.config import HotelConfig, PropertyConfig

OPERATOR_KEY, CALLBACK_KEY, AGENT_KEY = "0", "8", "9"
SPANISH_KEY = "2"  # in the language choice that bilingual properties play first


@dataclass(frozen=True)
class Prompt:
    language: str  # Asterisk's language code: en, es
    name: str  # as the dialplan plays it: frontdesk/goodbye, frontdesk/harborview/menu
    text: str

    @property
    def path(self) -> str:
        """Where it lives under sounds/: en/frontdesk/goodbye.wav."""
        return f"{self.language}/{self.name}.wav"


def asterisk_language(tag: str) -> str:
    """hotel.yaml's en-US -> Asterisk's en (the sounds/<language>/ directory)."""
    return tag.split("-", maxsplit=1)[0].lower()


SHARED: dict[str, dict[str, str]] = {
    "en": {
        "echo-test": "This is the Front Desk Voice echo test. After the tone, you will hear yourself.",
        "apology": "I am sorry, I cannot help you myself right now. "
        "Let me put you through to the front desk.",
        "goodbye": "Thank you for calling. Goodbye.",
        "survey": "Please rate this call from 1 to 5 on your keypad, or hang up.",
        "invalid": "Sorry, that is not one of the choices.",
        "no-input": "Sorry, I did not hear a choice.",
        "one-moment": "One moment, please.",
        "queue-you-are-next": "You are next in line.",
        "queue-there-are": "You are number",
        "queue-calls-waiting": "in line.",
        "queue-thank-you": "Thank you for your patience.",
        "queue-periodic": "Everyone at the desk is helping other guests. "
        "Please stay on the line; we will be with you shortly.",
        "unavailable": "I am sorry, nobody can take your call right now. "
        "Please call again a little later. Goodbye.",
        "emergency-notice": "Attention, please. An emergency call to nine one one has just "
        "been made from extension",
    },
    "es": {
        "echo-test": "Esta es la prueba de eco de Front Desk Voice. "
        "Después del tono, se escuchará a sí mismo.",
        "apology": "Lo siento, ahora no puedo ayudarle. Le paso con la recepción.",
        "goodbye": "Gracias por su llamada. Adiós.",
        "survey": "Por favor, valore esta llamada del 1 al 5 en su teclado, o cuelgue.",
        "invalid": "Lo siento, esa no es una de las opciones.",
        "no-input": "Lo siento, no he oído ninguna opción.",
        "one-moment": "Un momento, por favor.",
        "queue-you-are-next": "Usted es el siguiente.",
        "queue-there-are": "Usted es el número",
        "queue-calls-waiting": "en la fila.",
        "queue-thank-you": "Gracias por su paciencia.",
        "queue-periodic": "Todo el personal está atendiendo a otros huéspedes. "
        "Por favor, no cuelgue; le atenderemos enseguida.",
        "unavailable": "Lo siento, ahora nadie puede atender su llamada. "
        "Por favor, llame de nuevo un poco más tarde. Adiós.",
        "emergency-notice": "Atención, por favor. Se acaba de hacer una llamada de emergencia "
        "al nueve uno uno desde la extensión",
    },
}

# The language choice is said in the language it offers.
LANGUAGE_CHOICE = {"es": f"Para español, oprima {SPANISH_KEY}."}

# Queue position announcements say a number through Asterisk's digits/N files; English
# numbers up to 19 are single words, Spanish ones up to 30, then tens ("y" joins them).
_DIGITS = {
    "en": [*range(20), *range(20, 100, 10)],
    "es": [*range(31), *range(40, 100, 10)],
}
_AND = {"es": "y"}

_MENU_WORDS = {
    "en": {
        "welcome": "Thank you for calling the {name}.",
        "ai_first": "To book a room, or for anything our virtual receptionist can help with, "
        "press {key}.",
        "agent": "To talk to our virtual receptionist, press {key}.",
        "department": "For {name}, press {key}.",
        "callback": "To have us call you back, press {key}.",
        "operator": "For the operator, press {key}.",
        "repeat": "To hear these choices again, press star.",
    },
    "es": {
        "welcome": "Gracias por llamar al {name}.",
        "ai_first": "Para reservar una habitación, o para cualquier consulta con nuestra "
        "recepcionista virtual, oprima {key}.",
        "agent": "Para hablar con nuestra recepcionista virtual, oprima {key}.",
        "department": "Para {name}, oprima {key}.",
        "callback": "Para que le devolvamos la llamada, oprima {key}.",
        "operator": "Para la operadora, oprima {key}.",
        "repeat": "Para escuchar de nuevo estas opciones, oprima asterisco.",
    },
}


def property_prompts(prop: PropertyConfig) -> list[Prompt]:
    """The property's welcome and main menu in each of its languages."""
    prompts = []
    for tag in prop.languages:
        language = asterisk_language(tag)
        words = _MENU_WORDS.get(language)
        if words is None:
            continue  # a language without menu words: hotel_config_problems() reports it
        overrides = prop.phone_prompts.get(language, {})
        welcome = overrides.get("welcome") or words["welcome"].format(name=prop.name)
        menu = overrides.get("menu") or _menu_text(prop, language)
        prompts.append(Prompt(language, f"frontdesk/{prop.id}/welcome", welcome))
        prompts.append(Prompt(language, f"frontdesk/{prop.id}/menu", menu))
    return prompts


def _menu_text(prop: PropertyConfig, language: str) -> str:
    words = _MENU_WORDS[language]
    lines = []
    keyed = sorted(
        ((d.dtmf, d) for d in prop.departments.values() if d.dtmf is not None),
        key=lambda pair: pair[0],
    )
    if not any(d.ai_first for _, d in keyed):
        lines.append(words["agent"].format(key=AGENT_KEY))
    for key, department in keyed:
        if key == OPERATOR_KEY:
            continue  # said as "the operator" below
        if department.ai_first:
            lines.append(words["ai_first"].format(key=key))
        else:
            name = department.spoken_names.get(language, department.name)
            lines.append(words["department"].format(name=name, key=key))
    lines.append(words["callback"].format(key=CALLBACK_KEY))
    lines.append(words["operator"].format(key=OPERATOR_KEY))
    lines.append(words["repeat"])
    return " ".join(lines)


def all_prompts(hotel: HotelConfig) -> list[Prompt]:
    """Everything sounds/ should hold, for the languages the properties speak."""
    languages = sorted(
        {asterisk_language(t) for p in hotel.properties for t in p.languages} | {"en"}
    )
    prompts: list[Prompt] = []
    for language in languages:
        if language not in SHARED:
            continue
        prompts += [Prompt(language, f"frontdesk/{n}", t) for n, t in SHARED[language].items()]
        prompts += [Prompt(language, f"digits/{n}", str(n)) for n in _DIGITS[language]]
        if language in _AND:
            prompts.append(Prompt(language, "digits/and", _AND[language]))
        if language in LANGUAGE_CHOICE:
            prompts.append(Prompt(language, "frontdesk/language-choice", LANGUAGE_CHOICE[language]))
    for prop in hotel.properties:
        prompts += property_prompts(prop)
    return prompts


def hotel_config_problems(hotel: HotelConfig) -> list[str]:
    """What the phone menus cannot do with this hotel.yaml (said by the build and the doctor)."""
    problems = []
    for prop in hotel.properties:
        for tag in prop.languages:
            if asterisk_language(tag) not in _MENU_WORDS:
                problems.append(
                    f"{prop.id}: no phone menu words for language {tag} "
                    f"(have: {', '.join(sorted(_MENU_WORDS))})"
                )
        languages = [asterisk_language(t) for t in prop.languages]
        if len(languages) > 1 and (languages[0] != "en" or languages[1:] != ["es"]):
            problems.append(
                f"{prop.id}: the phone menu offers English first and Spanish on key "
                f"{SPANISH_KEY}; languages {prop.languages} are not that"
            )
    return problems
