"""Hotel domain: configuration, rooms, rates, reservations, leads, tools."""
