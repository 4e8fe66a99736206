"""a running summary per session (the LLM planner's memory of long conversations)

Revision ID: 0002_session_summary
Revises: 0001_initial
"""
from alembic import op
import sqlalchemy as sa


revision = '0002_session_summary'
down_revision = '0001_initial'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('summary', sa.Text(), server_default='', nullable=False))
        batch_op.add_column(sa.Column('summary_upto', sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('sessions', schema=None) as batch_op:
        batch_op.drop_column('summary_upto')
        batch_op.drop_column('summary')
