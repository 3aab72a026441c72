"""Scheduled posts and birthday cards: APScheduler triggers, a clock-driven loop over the database."""
