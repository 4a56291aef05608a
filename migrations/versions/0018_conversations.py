"""conversations for the staff inbox and the chat ordering flow; notes, quick replies, downloaded media

Every contact who has written gets a conversation (backfilled from contacts, newest activity being their
last message), so the inbox shows the chats that came before this version too.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "conversations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.Integer(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("handled_by", sa.String(length=8), nullable=False),
        sa.Column("assigned_to_id", sa.Integer(), nullable=True),
        sa.Column("waiting_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_activity_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_inbound_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_preview", sa.String(length=200), nullable=False),
        sa.Column("unread_count", sa.Integer(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("flow_step", sa.String(length=24), nullable=False),
        sa.Column("flow_data", sa.JSON(), nullable=False),
        sa.Column("flow_touched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("misunderstood", sa.Integer(), nullable=False),
        sa.Column("cart_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("handled_by IN ('bot', 'person')", name=op.f("ck_conversations_handled_by_known")),
        sa.ForeignKeyConstraint(
            ["assigned_to_id"], ["staff_users.id"], name=op.f("fk_conversations_assigned_to_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["cart_id"], ["carts.id"], name=op.f("fk_conversations_cart_id_carts"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["contact_id"], ["contacts.id"], name=op.f("fk_conversations_contact_id_contacts")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversations")),
        sa.UniqueConstraint("contact_id", name=op.f("uq_conversations_contact_id")),
    )
    op.create_index("ix_conversations_activity", "conversations", ["last_activity_at", "id"])
    op.create_index(op.f("ix_conversations_phone"), "conversations", ["phone"])
    op.create_index(op.f("ix_conversations_assigned_to_id"), "conversations", ["assigned_to_id"])
    op.create_index(
        "ix_conversations_unread",
        "conversations",
        ["last_activity_at", "id"],
        postgresql_where=sa.text("unread_count > 0"),
        sqlite_where=sa.text("unread_count > 0"),
    )
    op.create_index(
        "ix_conversations_waiting",
        "conversations",
        ["waiting_since"],
        postgresql_where=sa.text("waiting_since IS NOT NULL"),
        sqlite_where=sa.text("waiting_since IS NOT NULL"),
    )
    op.execute(
        "INSERT INTO conversations (contact_id, phone, name, handled_by, last_activity_at, last_inbound_at,"
        " last_preview, unread_count, language, flow_step, flow_data, misunderstood, created_at)"
        " SELECT id, COALESCE(phone, ''), name, 'bot', COALESCE(last_inbound_at, created_at), last_inbound_at,"
        " '', 0, '', '', '{}', 0, created_at FROM contacts"
    )
    op.create_table(
        "conversation_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("conversation_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["staff_users.id"], name=op.f("fk_conversation_notes_author_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["conversations.id"],
            name=op.f("fk_conversation_notes_conversation_id_conversations"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_conversation_notes")),
    )
    op.create_index("ix_conversation_notes_conversation", "conversation_notes", ["conversation_id", "id"])
    op.create_table(
        "quick_replies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=40), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quick_replies")),
    )
    op.create_table(
        "media_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("media_id", sa.String(length=128), nullable=False),
        sa.Column("mime_type", sa.String(length=100), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("storage_path", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("stored_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'stored', 'failed')", name=op.f("ck_media_files_status_known")),
        sa.ForeignKeyConstraint(["message_id"], ["messages.id"], name=op.f("fk_media_files_message_id_messages")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_files")),
        sa.UniqueConstraint("message_id", name=op.f("uq_media_files_message_id")),
    )


def downgrade():
    op.drop_table("media_files")
    op.drop_table("quick_replies")
    op.drop_index("ix_conversation_notes_conversation", table_name="conversation_notes")
    op.drop_table("conversation_notes")
    op.drop_index("ix_conversations_waiting", table_name="conversations")
    op.drop_index("ix_conversations_unread", table_name="conversations")
    op.drop_index(op.f("ix_conversations_assigned_to_id"), table_name="conversations")
    op.drop_index(op.f("ix_conversations_phone"), table_name="conversations")
    op.drop_index("ix_conversations_activity", table_name="conversations")
    op.drop_table("conversations")
