"""the cluster queue (MUSEFORGE_QUEUE=celery): turn jobs, workers, messages by job

Revision ID: 0005_turn_jobs
Revises: 0004_styles
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_turn_jobs'
down_revision = '0004_styles'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('turn_jobs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('queue_key', sa.String(length=200), nullable=False),
    sa.Column('route', sa.String(length=120), nullable=False),
    sa.Column('request', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('result', sa.JSON(), nullable=True),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('origin', sa.String(length=200), nullable=False),
    sa.Column('worker', sa.String(length=200), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('dispatched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('changed_at', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_turn_jobs'))
    )
    with op.batch_alter_table('turn_jobs', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_jobs_queue_key'), ['queue_key'], unique=False)
        batch_op.create_index('ix_turn_jobs_state_route', ['state', 'route'], unique=False)

    op.create_table('turn_workers',
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('route', sa.String(length=120), nullable=False),
    sa.Column('slots', sa.Integer(), nullable=False),
    sa.Column('started_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('heartbeat_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_turn_workers'))
    )
    with op.batch_alter_table('turn_workers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_turn_workers_route'), ['route'], unique=False)

    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.add_column(sa.Column('job_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_messages_job_id'), ['job_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('messages', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_messages_job_id'))
        batch_op.drop_column('job_id')
    with op.batch_alter_table('turn_workers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_turn_workers_route'))
    op.drop_table('turn_workers')
    with op.batch_alter_table('turn_jobs', schema=None) as batch_op:
        batch_op.drop_index('ix_turn_jobs_state_route')
        batch_op.drop_index(batch_op.f('ix_turn_jobs_queue_key'))
    op.drop_table('turn_jobs')
