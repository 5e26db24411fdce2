"""The inspector's page (index.html, app.js, app.css): static files served by :mod:`emulator.server.inspector`,
shipped as package data; no build step and nothing fetched from elsewhere."""
