"""The Asterisk REST Interface: a thin aiohttp client, typed events, the events WebSocket."""
