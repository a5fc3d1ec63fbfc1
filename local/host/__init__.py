"""A small local Azure Functions host: serves `function_app.app` with the Functions host's semantics
(HTTP, Storage-queue and timer triggers) where Core Tools cannot be installed. `python -m local.host`."""
