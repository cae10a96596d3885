"""Hive-Socket in web frameworks: one module per framework, each making one client per
application, closing it at shutdown, and handing it to request handlers.

- `hive_socket.integrations.fastapi`: a lifespan and the `HiveSocketDep` dependency.
- `hive_socket.integrations.aiohttp`: `setup(app)` and the `HIVE_SOCKET` app key.
- `hive_socket.integrations.flask`: the `HiveSocket` extension.

Django and Celery need no module of their own: their recipes are in the documentation.
"""
