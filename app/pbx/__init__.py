"""Asterisk's side as files and processes: running our asterisk-config/ and dialplan/."""
