"""The catalog: products, their variants and the stock of each.

values.py      what staff type (prices, SKUs, stock, options, slugs), parsed and formatted
queries.py     reading the catalog: the storefront's active products, the admin's product list
stock.py       levels, the low-stock rule, staff adjustments and the reservations orders hold
products.py    product drafts saved, archived and restored
images.py      product image uploads
csv_export.py  the catalog as a CSV file
csv_import.py  a CSV file previewed, then imported
errors.py      the catalog's named errors

Import from the module that owns a name; this file re-exports nothing.
"""
