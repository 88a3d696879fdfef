"""E-mail notifications: preferences, templates, mailers, and the outbox that reminders and notices go through."""
