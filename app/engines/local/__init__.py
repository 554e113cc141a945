"""The embedded offline engine: a Realtime-GA-compatible WebSocket server (VAD → speech-to-text →
dialog manager → text-to-speech). It has no language model: its dialog manager is rule-based."""
