"""Subscribers, confirmations, deliveries and channels: see the subscriber issue."""
