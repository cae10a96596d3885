from __future__ import annotations

import functools
import json

from django.db import transaction
from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from .hive import hive


@csrf_exempt  # called by other services, not by browsers
@require_POST
def confirm_payment(request: HttpRequest, payment_id: str) -> JsonResponse:
    data = json.loads(request.body)
    with transaction.atomic():
        # ... mark the payment as confirmed in your database ...
        # Notify once the transaction has committed: a rolled-back payment notifies no
        # one. robust=True logs a failed notification instead of failing the request.
        transaction.on_commit(
            functools.partial(
                hive.notify.user,
                data["userId"],
                title="Payment confirmed",
                body=f"₦{data['amount']:,} received",
                type="success",
                metadata={"paymentId": payment_id, "amount": data["amount"]},
                source_service="payment-backend",
            ),
            robust=True,
        )
    return JsonResponse({"ok": True})
