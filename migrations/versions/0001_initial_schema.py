"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-23 15:17:05.451993
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op


revision: str = '0001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('rooms',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('topic', sa.String(length=255), nullable=False),
    sa.Column('moderated', sa.Boolean(), nullable=False),
    sa.Column('enabled_by', sa.String(length=128), nullable=True),
    sa.Column('enabled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bot_id', sa.String(length=128), nullable=False),
    sa.Column('owner_id', sa.String(length=128), nullable=False),
    sa.Column('admin_ids', sa.JSON(), nullable=False),
    sa.Column('member_count', sa.Integer(), nullable=False),
    sa.Column('member_cap', sa.Integer(), nullable=False),
    sa.Column('cap_alerted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_rooms'))
    )
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rooms_bot_id'), ['bot_id'], unique=False)

    op.create_table('sent_notices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('notice_id', sa.String(length=128), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('fire_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('bot_id', sa.String(length=128), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sent_notices')),
    sa.UniqueConstraint('notice_id', 'room_id', 'fire_at', name=op.f('uq_sent_notices_notice_id'))
    )
    op.create_table('cases',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('bot_id', sa.String(length=128), nullable=False),
    sa.Column('pardoned_by', sa.String(length=128), nullable=True),
    sa.Column('pardoned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_cases_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('room_id', 'message_id', name=op.f('uq_cases_room_id'))
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_contact_created', ['contact_id', 'created_at'], unique=False)

    op.create_table('daily_counts',
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.Column('speakers', sa.Integer(), nullable=False),
    sa.Column('joins', sa.Integer(), nullable=False),
    sa.Column('leaves', sa.Integer(), nullable=False),
    sa.Column('violations', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_daily_counts_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'day', name=op.f('pk_daily_counts'))
    )
    op.create_table('daily_rule_counts',
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('rule', sa.String(length=128), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_daily_rule_counts_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'day', 'rule', name=op.f('pk_daily_rule_counts'))
    )
    op.create_table('daily_speaker_counts',
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_daily_speaker_counts_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('room_id', 'day', 'contact_id', name=op.f('pk_daily_speaker_counts'))
    )
    op.create_table('featured_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('sender_name', sa.String(length=255), nullable=False),
    sa.Column('said_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('marked_by', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_featured_messages_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_featured_messages')),
    sa.UniqueConstraint('room_id', 'message_id', name=op.f('uq_featured_messages_room_id'))
    )
    op.create_table('lifecycle_deadlines',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('due_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reminded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_lifecycle_deadlines_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_lifecycle_deadlines')),
    sa.UniqueConstraint('room_id', 'contact_id', 'kind', name=op.f('uq_lifecycle_deadlines_room_id'))
    )
    with op.batch_alter_table('lifecycle_deadlines', schema=None) as batch_op:
        batch_op.create_index('ix_lifecycle_deadlines_state_due', ['state', 'due_at'], unique=False)

    op.create_table('member_names',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('seen_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_member_names_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_member_names'))
    )
    with op.batch_alter_table('member_names', schema=None) as batch_op:
        batch_op.create_index('ix_member_names_room_contact', ['room_id', 'contact_id'], unique=False)

    op.create_table('members',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('display_name', sa.String(length=255), nullable=False),
    sa.Column('joined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('inviter_id', sa.String(length=128), nullable=False),
    sa.Column('left_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_spoke_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('message_count', sa.Integer(), nullable=False),
    sa.Column('nickname_ok', sa.Boolean(), nullable=True),
    sa.Column('intro_done_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('exempt', sa.Boolean(), nullable=False),
    sa.Column('exempt_by', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_members_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_members')),
    sa.UniqueConstraint('room_id', 'contact_id', name=op.f('uq_members_room_id'))
    )
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.create_index('ix_members_contact_id', ['contact_id'], unique=False)

    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('answer', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_appeals_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_case_id'), ['case_id'], unique=False)

    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('command', sa.String(length=64), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=True),
    sa.Column('target_id', sa.String(length=128), nullable=True),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('detail', sa.JSON(), nullable=False),
    sa.Column('bot_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_audit_log_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_audit_log_case_id'), ['case_id'], unique=False)

    op.create_table('blacklist',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=True),
    sa.Column('bot_id', sa.String(length=128), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('added_by', sa.String(length=128), nullable=False),
    sa.Column('added_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('removed_by', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_blacklist_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_blacklist'))
    )
    with op.batch_alter_table('blacklist', schema=None) as batch_op:
        batch_op.create_index('ix_blacklist_contact', ['contact_id'], unique=False)

    op.create_table('case_actions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('params', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('state', sa.String(length=24), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_actions_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_actions')),
    sa.UniqueConstraint('case_id', 'position', name=op.f('uq_case_actions_case_id'))
    )
    with op.batch_alter_table('case_actions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_actions_case_id'), ['case_id'], unique=False)

    op.create_table('mutes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('contact_id', sa.String(length=128), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('until', sa.DateTime(timezone=True), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('muted_by', sa.String(length=128), nullable=False),
    sa.Column('lifted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('lifted_by', sa.String(length=128), nullable=True),
    sa.Column('ended_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_mutes_case_id_cases'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['room_id'], ['rooms.id'], name=op.f('fk_mutes_room_id_rooms'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mutes'))
    )
    with op.batch_alter_table('mutes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mutes_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_mutes_room_contact_until', ['room_id', 'contact_id', 'until'], unique=False)

    op.create_table('outgoing_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bot_id', sa.String(length=128), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=True),
    sa.Column('to_id', sa.String(length=128), nullable=True),
    sa.Column('mention_ids', sa.JSON(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=True),
    sa.Column('urgent', sa.Boolean(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('not_before', sa.DateTime(timezone=True), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_outgoing_messages_case_id_cases'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outgoing_messages'))
    )
    with op.batch_alter_table('outgoing_messages', schema=None) as batch_op:
        batch_op.create_index('ix_outgoing_messages_bot_state', ['bot_id', 'state'], unique=False)

    op.create_table('review_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('action_kind', sa.String(length=32), nullable=False),
    sa.Column('action_position', sa.Integer(), nullable=True),
    sa.Column('requested_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('deadline', sa.DateTime(timezone=True), nullable=False),
    sa.Column('default_decision', sa.String(length=16), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.String(length=128), nullable=True),
    sa.Column('decided_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('bot_id', sa.String(length=128), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_review_requests_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_review_requests'))
    )
    with op.batch_alter_table('review_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_review_requests_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_review_requests_state_deadline', ['state', 'deadline'], unique=False)

    op.create_table('violations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('room_id', sa.String(length=128), nullable=False),
    sa.Column('message_id', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('sender_id', sa.String(length=128), nullable=False),
    sa.Column('rule', sa.String(length=128), nullable=False),
    sa.Column('category', sa.String(length=64), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('evidence', sa.JSON(), nullable=False),
    sa.Column('excerpt', sa.Text(), nullable=True),
    sa.Column('message_type', sa.String(length=24), nullable=False),
    sa.Column('purged_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_violations_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_violations')),
    sa.UniqueConstraint('room_id', 'message_id', 'rule', name=op.f('uq_violations_room_id'))
    )
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_violations_case_id'), ['case_id'], unique=False)
        batch_op.create_index('ix_violations_room_at', ['room_id', 'at'], unique=False)
        batch_op.create_index('ix_violations_sender_at', ['sender_id', 'at'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('violations', schema=None) as batch_op:
        batch_op.drop_index('ix_violations_sender_at')
        batch_op.drop_index('ix_violations_room_at')
        batch_op.drop_index(batch_op.f('ix_violations_case_id'))

    op.drop_table('violations')
    with op.batch_alter_table('review_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_review_requests_state_deadline')
        batch_op.drop_index(batch_op.f('ix_review_requests_case_id'))

    op.drop_table('review_requests')
    with op.batch_alter_table('outgoing_messages', schema=None) as batch_op:
        batch_op.drop_index('ix_outgoing_messages_bot_state')

    op.drop_table('outgoing_messages')
    with op.batch_alter_table('mutes', schema=None) as batch_op:
        batch_op.drop_index('ix_mutes_room_contact_until')
        batch_op.drop_index(batch_op.f('ix_mutes_case_id'))

    op.drop_table('mutes')
    with op.batch_alter_table('case_actions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_actions_case_id'))

    op.drop_table('case_actions')
    with op.batch_alter_table('blacklist', schema=None) as batch_op:
        batch_op.drop_index('ix_blacklist_contact')

    op.drop_table('blacklist')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_audit_log_case_id'))
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_case_id'))

    op.drop_table('appeals')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_index('ix_members_contact_id')

    op.drop_table('members')
    with op.batch_alter_table('member_names', schema=None) as batch_op:
        batch_op.drop_index('ix_member_names_room_contact')

    op.drop_table('member_names')
    with op.batch_alter_table('lifecycle_deadlines', schema=None) as batch_op:
        batch_op.drop_index('ix_lifecycle_deadlines_state_due')

    op.drop_table('lifecycle_deadlines')
    op.drop_table('featured_messages')
    op.drop_table('daily_speaker_counts')
    op.drop_table('daily_rule_counts')
    op.drop_table('daily_counts')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_contact_created')

    op.drop_table('cases')
    op.drop_table('sent_notices')
    with op.batch_alter_table('rooms', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_rooms_bot_id'))

    op.drop_table('rooms')
