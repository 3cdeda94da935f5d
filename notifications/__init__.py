"""Scheduled jobs and email: the outbox's delivery over SMTP and the composition of messages.

``notifications`` imports ``tracker``; nothing in ``tracker`` imports ``notifications``.
"""
