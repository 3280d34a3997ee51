"""The Stripe gateway: PaymentIntents and refunds through the official SDK.

Only amounts, currencies and ids go to Stripe; card details go from the browser straight to
Stripe (Stripe.js confirms the PaymentIntent with its `client_secret`), never through this
service. Every call that creates something carries an idempotency key derived from the
order, so a retry (by the SDK, the client or an operator) never charges or refunds twice.
"""

import json
from dataclasses import dataclass
from typing import Any

import stripe
from fastapi import Request

from ...core.errors import Problem
from .settings import (
    STRIPE_MAX_NETWORK_RETRIES,
    STRIPE_TIMEOUT_SECONDS,
    PaymentSettings,
    get_payment_settings,
)

# Stripe's error code when a PaymentIntent is no longer in a state the call applies to (for
# example cancelling one that has just succeeded).
UNEXPECTED_STATE = "payment_intent_unexpected_state"
WEBHOOK_TOLERANCE_SECONDS = 300


class PaymentsNotConfigured(Problem):
    status, title = 503, "Payments not configured"

    def __init__(self, missing: str) -> None:
        super().__init__(f"Payments are not configured on this server: {missing} is not set")


class PaymentProviderError(Problem):
    status, title = 502, "Payment provider error"


class BadSignature(Problem):
    status, title = 400, "Invalid webhook signature"


@dataclass(frozen=True)
class Intent:
    """What the service keeps of a PaymentIntent."""

    id: str
    client_secret: str | None
    status: str


class PaymentGateway:
    """One StripeClient (with its own HTTP connection pool) for one event loop's users."""

    def __init__(self, settings: PaymentSettings) -> None:
        if settings.stripe_secret_key is None:
            raise PaymentsNotConfigured("STRIPE_SECRET_KEY")
        self.settings = settings
        self.http = stripe.HTTPXClient(timeout=STRIPE_TIMEOUT_SECONDS)
        self.client = stripe.StripeClient(
            settings.stripe_secret_key.get_secret_value(),
            base_addresses={"api": settings.stripe_api_base},
            max_network_retries=STRIPE_MAX_NETWORK_RETRIES,
            http_client=self.http,
        )

    async def create_intent(
        self, *, order_id: str, amount_minor: int, currency: str, user_id: str
    ) -> Intent:
        """A PaymentIntent for an order; the same order always gets the same intent."""
        intent = await self.client.v1.payment_intents.create_async(
            {
                "amount": amount_minor,
                "currency": currency.lower(),
                "automatic_payment_methods": {"enabled": True},
                "metadata": {"order_id": order_id, "user_id": user_id},
            },
            {"idempotency_key": f"order-{order_id}"},
        )
        return Intent(intent.id, intent.client_secret, intent.status)

    async def retrieve_intent(self, intent_id: str) -> Intent:
        intent = await self.client.v1.payment_intents.retrieve_async(intent_id)
        return Intent(intent.id, intent.client_secret, intent.status)

    async def cancel_intent(self, intent_id: str) -> bool:
        """Cancel an unpaid intent. False if it can no longer be cancelled (it succeeded, or was
        cancelled already): the caller then leaves the order to the webhook."""
        try:
            await self.client.v1.payment_intents.cancel_async(intent_id)
        except stripe.InvalidRequestError as exc:
            if exc.code == UNEXPECTED_STATE:
                return False
            raise
        return True

    async def refund(self, *, order_id: str, intent_id: str) -> str:
        """Refund the whole payment of an order; returns the refund id."""
        refund = await self.client.v1.refunds.create_async(
            {"payment_intent": intent_id, "metadata": {"order_id": order_id}},
            {"idempotency_key": f"refund-{order_id}"},
        )
        return refund.id

    async def aclose(self) -> None:
        await self.http.close_async()  # type: ignore[no-untyped-call]


def verify_event(
    settings: PaymentSettings, payload: bytes, signature: str | None
) -> dict[str, Any]:
    """The event of a webhook request whose Stripe-Signature is valid and at most 5 minutes old.

    Checked by the SDK (`WebhookSignature.verify_header`, the check `Webhook.construct_event`
    makes: HMAC-SHA256 of "<timestamp>.<body>" with the endpoint's secret, constant-time
    compared); the verified body is then read as plain JSON, so a signed body that is not an
    event object is a 400 rather than an error inside the SDK's event builder.
    """
    if settings.stripe_webhook_secret is None:
        raise PaymentsNotConfigured("STRIPE_WEBHOOK_SECRET")
    try:
        stripe.WebhookSignature.verify_header(
            payload,
            signature,
            settings.stripe_webhook_secret.get_secret_value(),
            tolerance=WEBHOOK_TOLERANCE_SECONDS,
        )
        event: Any = json.loads(payload)
    except stripe.SignatureVerificationError as exc:
        raise BadSignature(f"The Stripe-Signature header does not verify: {exc}") from exc
    except ValueError as exc:  # not UTF-8, or not JSON
        raise BadSignature("The webhook body is not a JSON event") from exc
    if not isinstance(event, dict) or not isinstance(event.get("id"), str):
        raise BadSignature("The webhook body is not a Stripe event")
    return event


async def gateway_of(request: Request) -> PaymentGateway:
    """The app's gateway for the current payment settings, made on first use (503 without a
    Stripe key). Kept per app: its connection pool belongs to the app's event loop."""
    settings = get_payment_settings()
    current: PaymentGateway | None = getattr(request.app.state, "payment_gateway", None)
    if current is None or current.settings is not settings:
        if current is not None:
            await current.aclose()
        current = PaymentGateway(settings)
        request.app.state.payment_gateway = current
    return current
