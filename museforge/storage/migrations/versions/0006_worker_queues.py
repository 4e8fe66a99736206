"""a worker's route is the list of queues it consumes (space-separated), not one name

Revision ID: 0006_worker_queues
Revises: 0005_turn_jobs
"""
from alembic import op
import sqlalchemy as sa


revision = '0006_worker_queues'
down_revision = '0005_turn_jobs'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # 0005 was released with a 120-character route and an index on it; workers now list
    # every queue they consume ("museforge.images.sdxl museforge.music museforge.audio"),
    # which no query looks up by.
    with op.batch_alter_table('turn_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turn_workers_route'))
        batch_op.alter_column('route', existing_type=sa.String(length=120), type_=sa.Text(),
                              existing_nullable=False)


def downgrade() -> None:
    with op.batch_alter_table('turn_workers', schema=None) as batch_op:
        batch_op.alter_column('route', existing_type=sa.Text(), type_=sa.String(length=120),
                              existing_nullable=False)
        batch_op.create_index(batch_op.f('ix_turn_workers_route'), ['route'], unique=False)
