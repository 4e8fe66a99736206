"""learnt styles (learn_style): a style per person, kind and name; a version per training

Revision ID: 0004_styles
Revises: 0003_user_tokens
"""
from alembic import op
import sqlalchemy as sa


revision = '0004_styles'
down_revision = '0003_user_tokens'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('styles',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('name_key', sa.String(length=64), nullable=False),
    sa.Column('version_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_styles_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_styles')),
    sa.UniqueConstraint('owner_id', 'kind', 'name_key', name='uq_styles_owner_kind_name')
    )
    with op.batch_alter_table('styles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_styles_owner_id'), ['owner_id'], unique=False)

    op.create_table('style_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('style_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('recipe', sa.JSON(), nullable=False),
    sa.Column('asset_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['asset_id'], ['assets.id'],
                            name=op.f('fk_style_versions_asset_id_assets')),
    sa.ForeignKeyConstraint(['style_id'], ['styles.id'],
                            name=op.f('fk_style_versions_style_id_styles')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_style_versions')),
    sa.UniqueConstraint('style_id', 'number', name='uq_style_versions_style_number')
    )
    with op.batch_alter_table('style_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_style_versions_asset_id'), ['asset_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('style_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_style_versions_asset_id'))
    op.drop_table('style_versions')
    with op.batch_alter_table('styles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_styles_owner_id'))
    op.drop_table('styles')
