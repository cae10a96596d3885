"""Application code under test: it takes the client as an argument."""

from __future__ import annotations

import logging

from hive_socket import AsyncHiveSocketClient, HiveSocketClient, HiveSocketError

logger = logging.getLogger(__name__)


def notify_payment_confirmed(hive: HiveSocketClient, user_id: str, amount: int) -> bool:
    """Tell the payer; a notification that cannot be sent must not fail the payment."""
    try:
        hive.notify.user(
            user_id, title="Payment confirmed", body=f"₦{amount:,} received", type="success"
        )
    except HiveSocketError:
        logger.warning("could not notify %s of their payment", user_id, exc_info=True)
        return False
    return True


async def announce_quiz(hive: AsyncHiveSocketClient, course_id: str) -> None:
    """Tell everyone in the course's room that its quiz has started."""
    await hive.notify.room(
        f"course:{course_id}", title="Quiz started", body="The quiz is live", type="info"
    )
