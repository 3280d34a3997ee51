"""Commerce: the product catalog, its categories and its inventory.

The foundation of the store: categories, and products with a price and a stock level that
can never go negative, adjusted atomically and announced on the event log (`catalog` and
`inventory:<product id>`), so storefronts update live. Public reads come from a cache that
every admin write (audited in `core.audit`) and every stock change invalidate. Carts, orders
and Stripe payments (`orders`) build on these products.
"""
