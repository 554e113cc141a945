"""Conversation engines: OpenAI Realtime (GA) and the embedded offline engine, one protocol."""
