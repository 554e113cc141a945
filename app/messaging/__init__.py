"""Text messages: the outbox, Twilio's Messaging API, its webhooks."""
