"""Front Desk Voice: an AI receptionist on the hotel's own Asterisk PBX."""

__version__ = "0.1.0"
