"""OpenAI's text-to-speech behind the same small interface as flite (when a key is set):
for rendering prompts in the voice callers hear from the Realtime agent."""

from __future__ import annotations

import openai

from app.calls.engine_port import EngineError

SPEECH_MODEL = "gpt-4o-mini-tts"


class OpenAITextToSpeech:
    rate = 24000  # response_format "pcm": 24 kHz, 16-bit, mono

    def __init__(
        self,
        api_key: str,
        voice: str = "marin",
        *,
        model: str = SPEECH_MODEL,
        base_url: str | None = None,
    ) -> None:
        self._client = openai.OpenAI(api_key=api_key, base_url=base_url, max_retries=2)
        self.voice = voice
        self._model = model

    def synthesize(self, text: str) -> bytes:
        """Blocking (a network call): run it in a worker thread."""
        try:
            response = self._client.audio.speech.create(
                model=self._model, voice=self.voice, input=text, response_format="pcm"
            )
        except openai.APIStatusError as exc:
            raise EngineError(
                f"OpenAI speech refused: {exc.status_code}",
                retryable=exc.status_code >= 500 or exc.status_code == 429,
            ) from exc
        except openai.APIConnectionError as exc:
            raise EngineError(f"OpenAI speech unreachable: {exc}", retryable=True) from exc
        return response.content
