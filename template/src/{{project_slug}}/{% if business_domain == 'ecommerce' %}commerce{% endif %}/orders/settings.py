"""Payment settings: the Stripe keys, read like the core settings (environment, then `.env`).

Kept apart from the core `Settings` because only the e-commerce domain pays, and so a store
runs (catalog, carts) before anyone has a Stripe account: checkout then answers 503.
"""

from datetime import timedelta
from functools import lru_cache

from pydantic import SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

STRIPE_API_BASE = "https://api.stripe.com"
# How long checkout holds the stock of an unpaid order before the expiry job releases it:
# long enough for 3-D Secure and a slow bank, short enough not to starve other buyers.
RESERVATION_TTL = timedelta(minutes=15)
# Seconds the SDK waits for Stripe, and how often it retries a failed call (with the same
# idempotency key, so a retry never charges twice).
STRIPE_TIMEOUT_SECONDS = 20.0
STRIPE_MAX_NETWORK_RETRIES = 2


class PaymentSettings(BaseSettings):
    """Stripe configuration. Names match the environment variables."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    # Secret API key (sk_test_... or sk_live_..., or a restricted rk_ key): server side only.
    stripe_secret_key: SecretStr | None = None
    # Signing secret of the webhook endpoint (whsec_...), from the dashboard or `stripe listen`.
    stripe_webhook_secret: SecretStr | None = None
    # Where the SDK sends API calls; only tests point it elsewhere (a local Stripe API server).
    stripe_api_base: str = STRIPE_API_BASE

    @property
    def configured(self) -> bool:
        """True when checkout can create payments (a secret key is set)."""
        return self.stripe_secret_key is not None


@lru_cache
def get_payment_settings() -> PaymentSettings:
    """The process-wide payment settings, read once."""
    return PaymentSettings()
