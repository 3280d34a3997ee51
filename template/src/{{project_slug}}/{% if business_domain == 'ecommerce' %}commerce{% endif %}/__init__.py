"""Commerce: the product catalog and its inventory.

The foundation of the store: products with a price and a stock level that can never go
negative, adjusted atomically and announced on the event log (`catalog` and
`inventory:<product id>`), so storefronts update live. Carts, orders and Stripe payments
build on these products.
"""
