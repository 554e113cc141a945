"""Payment providers reached over the network (adapters of app.hotel.payments)."""
