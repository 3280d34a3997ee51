"""Carts, checkout, orders and their Stripe payments."""
