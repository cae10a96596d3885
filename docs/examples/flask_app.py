"""A Flask app that notifies users through Hive-Socket.

Run it with ``flask --app flask_app run`` after setting HIVE_SOCKET_URL,
HIVE_SOCKET_API_KEY and SMARTHIVE_PROJECT_ID (or the same keys in the app's config).
"""

from __future__ import annotations

from collections.abc import Mapping

from flask import Flask, request

from hive_socket.integrations.flask import HiveSocket

hive = HiveSocket()


def create_app(config: Mapping[str, object] | None = None) -> Flask:
    app = Flask(__name__)
    app.config.update(config or {})
    hive.init_app(app)  # one blocking client for the app, shared by every thread

    @app.post("/payments/<payment_id>/confirm")
    def confirm_payment(payment_id: str) -> dict[str, object]:
        data = request.get_json()
        # ... mark the payment as confirmed in your database ...
        receipt = hive.notify.user(
            data["userId"],
            title="Payment confirmed",
            body=f"₦{data['amount']:,} received",
            type="success",
            metadata={"paymentId": payment_id, "amount": data["amount"]},
            source_service="payment-backend",
        )
        return {"ok": True, "notification": receipt.id}

    return app
