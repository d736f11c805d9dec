"""note what a customer clicked after being offered choices: an FAQ or a person (issue 3)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 12:10:00.000000
"""

import sqlalchemy as sa
from alembic import op

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('unanswered_messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('conversation_id', sa.String(length=255), nullable=True))
        batch_op.add_column(sa.Column('picked_faq_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('asked_for_person', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.create_index(batch_op.f('ix_unanswered_messages_conversation_id'),
                              ['conversation_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('unanswered_messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_unanswered_messages_conversation_id'))
        batch_op.drop_column('asked_for_person')
        batch_op.drop_column('picked_faq_key')
        batch_op.drop_column('conversation_id')
