"""The hotel's tools, offered to the conversation engine through the registry."""
