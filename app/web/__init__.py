"""aiohttp web application: health, readiness and (later) admin, API, softphone, metrics."""
