"""staff session version: signing out, a new password, a new role or deactivation end every session

Flask-Login keeps "<id>:<session_version>" in the session and in the remember-me cookie; raising the
version makes every earlier session and cookie of that account name nobody. Existing accounts start at 1
(their sessions, which named the bare id, end once at upgrade: everyone signs in again).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 14:20:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("staff_users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
