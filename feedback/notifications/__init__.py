"""Follower notifications, queued when something is published and sent by the delivery
workers."""
