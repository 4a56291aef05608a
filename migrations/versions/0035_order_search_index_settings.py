"""orders' trigram indexes: no pending list, and finer statistics for the name search

Two things made the order desk's name search slow (PostgreSQL only; SQLite has no trigram indexes):

- A GIN index gathers new entries in an unsorted pending list (up to 4 MB) until a vacuum or an overflow
  merges them, and every search reads the whole list. Orders are written all day (a checkout, every status
  change) while autovacuum comes rarely to a large table, so the list stays near full: with it a name search
  read 720 index pages instead of 255, the tab counts 500 instead of 22 (12 ms instead of 0.5), and the
  planner, which counts the list in its estimate, left the trigram indexes for plans that read 120,000 orders.
  `fastupdate = off` writes each order's trigrams straight into the index (a fraction of a millisecond more
  per order written) and keeps every search's cost where the index alone puts it.
- The planner guesses how many orders `lower(customer_name) LIKE '%…%'` matches from the index expression's
  statistics, and chooses between reading the matches from the trigram index and walking every order newest
  first until 51 match; at a million orders the two cost it the same near 0.1 % (1,000 orders), where the
  walk in fact takes 5–10 times longer. With the default 100 buckets, one bucket holding a 577-order name made
  it look like 10,000: the list walked 120,000 orders (90–360 ms) instead of reading 577 (15 ms). At 1,000
  buckets a 550-order name still came out at 888 and walked (140 ms). 2,500 buckets (0.04 % each; a name
  common enough to be listed among the most common values is counted exactly) keep such names on the index,
  while a common word ("sharma", tens of thousands of orders) still walks, which is right. ANALYZE of orders
  then samples 750,000 rows instead of 30,000 (20–30 s at a million orders on a busy machine).

An index rebuilt later (as 0031 did) must state `WITH (fastupdate = off)` again.

Revision ID: 0035
Revises: 0034
Create Date: 2026-12-01 11:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0035"
down_revision = "0034"
branch_labels = None
depends_on = None

TRIGRAM_INDEXES = (
    "ix_orders_customer_phone_trgm",
    "ix_orders_customer_name_trgm",
    "ix_orders_open_customer_phone_trgm",
    "ix_orders_open_customer_name_trgm",
)
NAME_INDEX = "ix_orders_customer_name_trgm"
NAME_STATISTICS = 2500


def _existing_trigram_indexes(bind) -> list[str]:
    """The orders' trigram indexes that exist: none on SQLite, nor where pg_trgm was unavailable (0005)."""
    if bind.dialect.name != "postgresql":
        return []
    return [name for name in TRIGRAM_INDEXES if bind.scalar(sa.text("SELECT to_regclass(:name)"), {"name": name})]


def upgrade():
    bind = op.get_bind()
    existing = _existing_trigram_indexes(bind)
    for name in existing:
        op.execute(f"ALTER INDEX {name} SET (fastupdate = off)")
        # Turning the list off does not empty it: merge what it holds now.
        op.execute(f"SELECT gin_clean_pending_list('{name}'::regclass)")
    if NAME_INDEX in existing:
        op.execute(f"ALTER INDEX {NAME_INDEX} ALTER COLUMN 1 SET STATISTICS {NAME_STATISTICS}")
        op.execute("ANALYZE orders")


def downgrade():
    bind = op.get_bind()
    existing = _existing_trigram_indexes(bind)
    if NAME_INDEX in existing:
        op.execute(f"ALTER INDEX {NAME_INDEX} ALTER COLUMN 1 SET STATISTICS -1")
    for name in existing:
        op.execute(f"ALTER INDEX {name} RESET (fastupdate)")
