"""Carrier adapters behind one port, registered by name (see :mod:`activities.carriers.port`)."""
