"""a cluster job carries the plan its front-end made of it (turn_jobs.plan)

Revision ID: 0007_job_plans
Revises: 0006_worker_queues
"""
from alembic import op
import sqlalchemy as sa


revision = '0007_job_plans'
down_revision = '0006_worker_queues'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Its own column beside the request: the request is what was asked (TurnRequest's
    # JSON, refused with a field it does not know), the plan what a front-end made of it.
    with op.batch_alter_table('turn_jobs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('plan', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('turn_jobs', schema=None) as batch_op:
        batch_op.drop_column('plan')
